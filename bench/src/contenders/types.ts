import type { BenchRedis } from '../redis-server.ts'

/** Where a contender keeps its data in a scenario. */
export type Tier = 'memory' | 'redis' | 'two-tier'

/** `cachestack` is the subject, `peer` a library it is compared with, `baseline` a floor to compare against. */
export type ContenderKind = 'cachestack' | 'peer' | 'baseline'

export interface WriteOptions {
  tags?: string[]
}

/**
 * One live cache instance behind a uniform face. Every call is awaited by the harness, so a
 * synchronous answer (Map, lru-cache) is measured as an awaited one, like the async libraries.
 */
export interface CacheAdapter {
  get(key: string): unknown
  set(key: string, value: unknown, options?: WriteOptions): Promise<unknown>
  getOrSet(key: string, factory: () => Promise<unknown>, options?: WriteOptions): Promise<unknown>
  /** Present only when the library has tag invalidation. */
  invalidateTag?: ((tag: string) => Promise<unknown>) | undefined
  /** Drops what the instance holds locally (Redis is flushed by the bench itself). */
  clear(): Promise<unknown>
  close(): Promise<void>
}

export interface CreateOptions {
  /** Turn tag support on where a library needs it switched on (cacheable). */
  tags?: boolean
  /** Namespace shared by instances that must see each other's Redis keys. */
  prefix: string
  /** Capacity for the memory tier. */
  maxItems: number
}

export interface BenchEnv {
  readonly redis: BenchRedis
  /** TTL given to every write, ms. Long enough that nothing expires during a scenario. */
  readonly ttlMs: number
}

export interface Contender {
  readonly name: string
  readonly kind: ContenderKind
  /** npm packages whose versions the report prints. */
  readonly packages: readonly string[]
  readonly tiers: readonly Tier[]
  readonly supportsTags: boolean
  /** Why the contender cannot run (e.g. cachestack's API has not landed yet); undefined when it can. */
  readonly unavailable?: string | undefined
  create(tier: Tier, env: BenchEnv, options: CreateOptions): Promise<CacheAdapter>
}

// cachestack, loaded at run time so the bench keeps working while the core API is being written:
// a missing export makes the contender "unavailable" instead of breaking the other scenarios.
// The structural types below are the part of the public contract (spec/core.md) the bench uses.
import { Redis } from 'ioredis'
import type { CacheAdapter, Contender, Tier } from './types.ts'

interface StackLike {
  get(key: string, fetcher?: undefined, options?: { ttl?: number; grace?: string }): Promise<unknown>
  set(key: string, value: unknown, options?: { ttl?: number; tags?: string[] }): Promise<unknown>
  getOrSet(
    key: string,
    factory: () => Promise<unknown>,
    options?: { ttl?: number; tags?: string[] },
  ): Promise<unknown>
  invalidateByTag(tag: string): Promise<unknown>
  clear(): Promise<unknown>
  disconnect(): Promise<unknown>
}

type Ctor<T> = new (...args: any[]) => T

interface CoreModule {
  CacheStack: Ctor<StackLike>
  MemoryLayer: Ctor<object>
  RedisLayer?: Ctor<object>
  RedisSingleFlight?: Ctor<object>
  RedisBus?: Ctor<object>
}

async function loadCore(): Promise<{ core?: CoreModule; reason?: string }> {
  try {
    const mod = (await import('@cachestack/core')) as Partial<CoreModule>
    if (typeof mod.CacheStack !== 'function') return { reason: 'CacheStack is not exported yet' }
    if (typeof mod.MemoryLayer !== 'function') return { reason: 'MemoryLayer is not exported' }
    return { core: mod as CoreModule }
  } catch (error) {
    return { reason: `@cachestack/core did not load: ${(error as Error).message.split('\n')[0]}` }
  }
}

const loaded = await loadCore()

/** Value handling of the memory layer: the default deep-frozen copy, or stored by reference. */
export type MemoryValues = 'frozen-copy' | 'reference'

export interface CachestackVariant {
  /** @default 'frozen-copy' */
  values?: MemoryValues
  /** Adds `RedisSingleFlight` (cross-instance stampede protection): Redis tiers only. */
  singleFlight?: boolean
  /**
   * Every `get` passes per-call options (`{ ttl, grace }`), so the hit row shows what checking them for
   * unknown keys costs. Memory tier only.
   */
  perCallOptions?: boolean
  /** `writeStrategy: 'write-behind'`: shared layers are written after the call returns. Redis tiers only. */
  writeBehind?: boolean
  /** A `RedisBus` on its own client (what a multi-instance deployment runs). Redis tiers only. */
  bus?: boolean
}

export function cachestackContender(variant: CachestackVariant = {}): Contender {
  const core = loaded.core
  const values = variant.values ?? 'frozen-copy'
  const singleFlight = variant.singleFlight === true
  let tiers: Tier[] = core?.RedisLayer ? ['memory', 'redis', 'two-tier'] : ['memory']
  let unavailable = loaded.reason
  if (singleFlight) {
    tiers = tiers.filter((tier) => tier !== 'memory')
    if (core && !core.RedisSingleFlight)
      unavailable = 'RedisSingleFlight is not exported from @cachestack/core yet'
  }
  const perCall = variant.perCallOptions === true
  if (perCall) tiers = ['memory']
  const writeBehind = variant.writeBehind === true
  const withBus = variant.bus === true
  if (writeBehind || withBus) tiers = tiers.filter((tier) => tier !== 'memory')
  const name = writeBehind
    ? 'cachestack (write-behind)'
    : withBus
      ? 'cachestack + RedisBus'
      : perCall
        ? 'cachestack (get with per-call options)'
        : singleFlight
          ? 'cachestack + RedisSingleFlight'
          : values === 'frozen-copy'
            ? 'cachestack'
            : 'cachestack (values: reference)'
  return {
    name,
    kind: 'cachestack',
    packages: ['@cachestack/core'],
    tiers,
    supportsTags: true,
    unavailable,
    async create(tier, env, options): Promise<CacheAdapter> {
      if (!core) throw new Error(loaded.reason)
      const layers: object[] = []
      let client: Redis | undefined
      if (tier !== 'redis') layers.push(new core.MemoryLayer({ maxItems: options.maxItems, values }))
      if (tier !== 'memory') {
        if (!core.RedisLayer) throw new Error('RedisLayer is not exported yet')
        client = new Redis({ host: env.redis.host, port: env.redis.port, db: env.redis.db })
        await client.ping()
        layers.push(new core.RedisLayer({ client, prefix: `${options.prefix}:` }))
      }
      const flight =
        singleFlight && client && core.RedisSingleFlight
          ? new core.RedisSingleFlight({ client, prefix: `${options.prefix}:flight:` })
          : undefined
      let busClient: Redis | undefined
      if (withBus && core.RedisBus) {
        busClient = new Redis({ host: env.redis.host, port: env.redis.port, db: env.redis.db })
        await busClient.ping()
      }
      const cache = new core.CacheStack(layers, {
        ttl: env.ttlMs,
        ...(flight ? { singleFlight: flight } : {}),
        ...(writeBehind ? { writeStrategy: 'write-behind' } : {}),
        ...(busClient && core.RedisBus
          ? { bus: new core.RedisBus({ client: busClient, channel: `${options.prefix}:bus` }) }
          : {}),
      })
      return {
        // A literal per call, as application code writes it.
        get: perCall
          ? (key) => cache.get(key, undefined, { ttl: env.ttlMs, grace: '1m' })
          : (key) => cache.get(key),
        set: (key, value, o) => cache.set(key, value, o?.tags ? { tags: o.tags } : undefined),
        getOrSet: (key, factory, o) => cache.getOrSet(key, factory, o?.tags ? { tags: o.tags } : undefined),
        invalidateTag: (tag) => cache.invalidateByTag(tag),
        clear: () => cache.clear(),
        async close() {
          await cache.disconnect()
          if (client && client.status !== 'end') await client.quit().catch(() => client?.disconnect())
          if (busClient) await busClient.quit().catch(() => busClient?.disconnect())
        },
      }
    },
  }
}

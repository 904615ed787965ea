import { createHash } from 'node:crypto'
import {
  assertKnownOptions,
  type CacheStack,
  type Duration,
  invalidateQuietly,
  MAX_OPERATION_KEY_LENGTH,
  optionNames,
  parseDuration,
  ValidationError,
} from '@cachestack/core'
import type { ExecutionResult } from 'graphql'
import { entityTag, listTag } from './type-tags.ts'

/** Options of `responseCacheStore`. */
export interface ResponseCacheStoreOptions {
  /** Key prefix of whole-response entries, so they never meet resolver or other entries. @default 'gql-response:' */
  prefix?: string | undefined
  /**
   * Fresh period of a response the plugin gives no ttl (its `ttl` option unset, no `@cacheControl`
   * or `ttlPerSchemaCoordinate` match: the plugin then passes `Infinity`). @default the stack's ttl
   */
  ttl?: Duration | undefined
}

/** One entity the plugin collected from a result: `{ typename: 'Post', id: 1 }`, or a whole type. */
export interface ResponseCacheEntity {
  typename: string
  id?: number | string
}

/** The `extensions` of a stored result, as `@graphql-yoga/plugin-response-cache` reads them. */
export interface ResponseCacheExtensions {
  http?: { headers?: Record<string, string> }
  [key: string]: unknown
}

/** A cached whole response. */
export type CachedResponse = ExecutionResult<Record<string, unknown>, ResponseCacheExtensions>

/**
 * The `Cache` of `@envelop/response-cache` and `@graphql-yoga/plugin-response-cache`, on a cachestack
 * stack. Structural: nothing of either plugin is imported.
 */
export interface ResponseCacheStore {
  /** Stores a result for `ttl` ms (`Infinity`: the store's `ttl`; 0 or less: not stored), tagged by its entities. */
  set(id: string, data: ExecutionResult, entities: Iterable<ResponseCacheEntity>, ttl: number): Promise<void>
  /** The stored result, or `null` (a miss, a failed read, or a stored value of an unexpected shape). */
  get(id: string): Promise<CachedResponse | null>
  /** Purges every response holding one of the entities (`{ typename }` alone: any of that type). */
  invalidate(entities: Iterable<ResponseCacheEntity>): Promise<void>
}

/** Key prefix of whole-response entries. */
export const RESPONSE_KEY_PREFIX = 'gql-response:'

const OPTION_NAMES = optionNames<ResponseCacheStoreOptions>({ prefix: true, ttl: true })
const RESULT_FIELDS = new Set(['data', 'errors', 'extensions'])

/**
 * A cachestack-backed `Cache` for `useResponseCache({ session, cache: responseCacheStore(stack) })`
 * (`@envelop/response-cache` or `@graphql-yoga/plugin-response-cache`). Entities become the tags
 * `invalidateResolver` purges: `Post:list` for any response holding a `Post`, `Post:1` for one holding
 * post 1, so an invalidation reaches every instance through the stack's bus.
 */
export function responseCacheStore(
  cache: CacheStack,
  options: ResponseCacheStoreOptions = {},
): ResponseCacheStore {
  return new StackResponseCache(cache, options)
}

class StackResponseCache implements ResponseCacheStore {
  readonly #cache: CacheStack
  readonly #prefix: string
  readonly #ttl: number | undefined

  constructor(cache: CacheStack, options: ResponseCacheStoreOptions) {
    const stack = cache as Partial<CacheStack> | null
    if (
      !stack ||
      typeof stack.get !== 'function' ||
      typeof stack.set !== 'function' ||
      typeof stack.invalidateByTags !== 'function'
    ) {
      throw new ValidationError('responseCacheStore() takes a CacheStack (or a namespace of one)', 'cache')
    }
    if (!options || typeof options !== 'object' || Array.isArray(options)) {
      throw new ValidationError('responseCacheStore() takes an options object', 'options')
    }
    assertKnownOptions(options, OPTION_NAMES, 'an option of responseCacheStore()')
    const { prefix = RESPONSE_KEY_PREFIX, ttl } = options
    if (typeof prefix !== 'string' || prefix === '')
      throw new ValidationError('"prefix" must be a non-empty string', 'prefix')
    const parsedTtl = ttl === undefined ? undefined : parseDuration(ttl, 'ttl')
    if (parsedTtl === 0) throw new ValidationError('"ttl" must be above 0 (0 stores nothing)', 'ttl')
    this.#cache = cache
    this.#prefix = prefix
    this.#ttl = parsedTtl
  }

  async set(
    id: string,
    data: ExecutionResult,
    entities: Iterable<ResponseCacheEntity>,
    ttl: number,
  ): Promise<void> {
    // 0 (or NaN, or below) means "do not cache" wherever the plugin's ttl comes from (onTtl included).
    if (!(typeof ttl === 'number' && ttl > 0) || typeof id !== 'string' || id === '') return
    try {
      // What the client receives: JSON (a GraphQLError becomes its toJSON()), stored by every layer alike.
      const stored = JSON.parse(JSON.stringify(data)) as unknown
      if (!isCachedResponse(stored)) return
      const tags = new Set<string>()
      for (const entity of entities) {
        const { typename, id: entityId } = entity ?? {}
        if (typeof typename !== 'string' || typename === '') continue
        tags.add(listTag(typename))
        if ((typeof entityId === 'string' && entityId !== '') || typeof entityId === 'number')
          tags.add(entityTag(typename, entityId))
      }
      const entryTtl = Number.isFinite(ttl) ? ttl : this.#ttl
      await this.#cache.set(this.#key(id), stored, {
        ...(entryTtl === undefined ? {} : { ttl: entryTtl }),
        ...(tags.size > 0 ? { tags: [...tags] } : {}),
      })
    } catch (error) {
      // The plugin does not await set(): a rejection here would be unhandled. Not storing is safe.
      process.emitWarning(`cachestack: storing GraphQL response ${id} failed: ${String(error)}`)
    }
  }

  async get(id: string): Promise<CachedResponse | null> {
    if (typeof id !== 'string' || id === '') return null
    try {
      const stored = await this.#cache.get<unknown>(this.#key(id))
      return isCachedResponse(stored) ? stored : null
    } catch {
      // Yoga also reads with a client's If-None-Match as the id: a failed read is a miss, never a 500.
      return null
    }
  }

  async invalidate(entities: Iterable<ResponseCacheEntity>): Promise<void> {
    const tags = new Set<string>()
    for (const entity of entities) {
      const { typename, id } = entity ?? {}
      if (typeof typename !== 'string' || typename === '') continue
      // A type alone purges every response holding that type, as the plugin's in-memory cache does.
      tags.add(id === undefined || id === null || id === '' ? listTag(typename) : entityTag(typename, id))
    }
    // The plugin does not await this: the stack marks the tags invalid locally before its first await,
    // so a read that follows never answers a purged response (tested); a failure must not go unhandled.
    await invalidateQuietly(this.#cache, [...tags])
  }

  #key(id: string): string {
    // The plugin's ids are SHA-256 digests; a custom buildResponseCacheKey (or a client's
    // If-None-Match, which Yoga reads with) may be anything, so long ids are hashed.
    return id.length <= MAX_OPERATION_KEY_LENGTH
      ? this.#prefix + id
      : `${this.#prefix}#${createHash('sha256').update(id).digest('base64url')}`
  }
}

/** A stored value is used only if it has the shape `set` stores: anything else is a miss. */
function isCachedResponse(value: unknown): value is CachedResponse {
  if (!isRecord(value)) return false
  for (const field in value) if (!RESULT_FIELDS.has(field)) return false
  const { data, errors, extensions } = value
  if (data === undefined && errors === undefined) return false
  if (data !== undefined && data !== null && !isRecord(data)) return false
  if (errors !== undefined && !(Array.isArray(errors) && errors.every(isError))) return false
  if (extensions === undefined) return true
  if (!isRecord(extensions)) return false
  const { http } = extensions
  if (http === undefined) return true
  if (!isRecord(http)) return false
  const { headers } = http
  return (
    headers === undefined ||
    (isRecord(headers) && Object.values(headers).every((header) => typeof header === 'string'))
  )
}

function isError(value: unknown): boolean {
  return isRecord(value) && typeof value.message === 'string'
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

import { ValidationError } from '../errors.ts'
import { assertKnownOptions, joinNames } from '../internal/known-options.ts'
import type { Duration, Size } from '../internal/units.ts'
import { optionalDuration, parseSize } from '../internal/units.ts'
import type { Clock } from '../layer.ts'

/** The slice of a factory context the HTTP cache uses; a `CacheStack` factory context satisfies it. */
export interface HttpFactoryContext {
  readonly gracedEntry?: { value: unknown; createdAt: number } | undefined
  /** True when the run refreshes an entry in the background: the request that started it was answered. */
  readonly isBackground?: boolean
  setOptions(options: { tags?: readonly string[] }): void
  skip<V>(value?: V): V
  fail(reason?: unknown): never
}

/** Options the HTTP cache hands to `getOrSet`. */
export interface HttpEntryOptions {
  ttl?: number | undefined
  staleWhileRevalidate?: number | undefined
  grace?: number | undefined
  tags?: readonly string[] | undefined
}

/**
 * What the HTTP cache needs from a cache: a `CacheStack` or one of its namespaces. Kept structural so
 * that core/http depends on the stack's public contract only.
 */
export interface HttpCacheStore {
  getOrSet<T>(
    key: string,
    factory: (ctx: HttpFactoryContext) => T | Promise<T>,
    options?: HttpEntryOptions,
  ): Promise<T | undefined>
  set(key: string, value: unknown, options?: HttpEntryOptions): Promise<unknown>
  invalidateByTags(tags: string[]): Promise<unknown>
  getStats(): unknown
}

/** Tags for an entry or an invalidation: a list, or computed from the request and the response. */
export type TagsOption<Req, Res> = readonly string[] | ((req: Req, res: Res) => readonly string[])

/** Per-route response caching options, shared by every HTTP adapter. */
export interface ResponseCacheOptions<Req, Res> {
  /** Fresh period of a stored response. @default the stack's `ttl` */
  ttl?: Duration | undefined
  /** Window after `ttl` in which the stale response is served while one background request refreshes it. */
  staleWhileRevalidate?: Duration | undefined
  /** Window after `ttl` in which a throwing or 5xx handler is hidden behind the stale response. */
  grace?: Duration | undefined
  /** Statuses that may be stored. @default [200] */
  statuses?: readonly number[] | undefined
  /** `'private'` caches per session (needs `session`); `'public'` bypasses requests with credentials. @default 'public' */
  scope?: 'public' | 'private' | undefined
  /** Resolves the session of a request for `scope: 'private'`; an empty answer bypasses the cache. */
  session?: (req: Req) => string | null | undefined | Promise<string | null | undefined>
  /** Request headers whose values are part of the key; a response may `Vary` on these. @default [] */
  vary?: readonly string[] | undefined
  /** Query parameters left out of the key (tracking parameters); a trailing `*` matches a prefix. @default [] */
  ignoreQuery?: readonly string[] | undefined
  /** Replaces the canonical key (the scope is still appended). */
  key?: ((req: Req) => string | Promise<string>) | undefined
  /** Tags stored with a cached response. */
  tags?: TagsOption<Req, Res> | undefined
  /** Tags invalidated after a 2xx answer to POST/PUT/PATCH/DELETE, before the answer reaches the client. */
  invalidates?: TagsOption<Req, Res> | undefined
  /** Larger bodies are streamed through and not stored. @default '1mb' */
  maxBodySize?: Size | undefined
  /** Lets a request skip the cache (neither read nor written); clients cannot bypass otherwise. */
  bypass?: ((req: Req) => boolean) | undefined
  /**
   * Caches GET/HEAD requests that carry a body, the body left out of the key: only for handlers that never
   * read a body on GET. Otherwise such a request bypasses the cache, since body parsers read it. @default false
   */
  allowBody?: boolean | undefined
  /** Adds an RFC 9211 `Cache-Status` header. @default false */
  cacheStatusHeader?: boolean | undefined
}

/** Options normalized once, at construction. */
export interface NormalizedResponseCacheOptions<Req, Res> {
  readonly ttl: number | undefined
  readonly staleWhileRevalidate: number | undefined
  readonly grace: number | undefined
  readonly statuses: ReadonlySet<number>
  readonly scope: 'public' | 'private'
  readonly session: ((req: Req) => string | null | undefined | Promise<string | null | undefined>) | undefined
  readonly vary: readonly string[]
  readonly ignoreQuery: (name: string) => boolean
  readonly key: ((req: Req) => string | Promise<string>) | undefined
  readonly tags: TagsOption<Req, Res> | undefined
  readonly invalidates: TagsOption<Req, Res> | undefined
  readonly maxBodySize: number
  readonly bypass: ((req: Req) => boolean) | undefined
  readonly allowBody: boolean
  readonly cacheStatusHeader: boolean
}

/** Statuses stored when `statuses` is not given. */
export const DEFAULT_STATUSES: readonly number[] = [200]
/** Body size cap when `maxBodySize` is not given. */
export const DEFAULT_MAX_BODY_SIZE = '1mb'

const KNOWN_OPTIONS = new Set([
  'ttl',
  'staleWhileRevalidate',
  'grace',
  'statuses',
  'scope',
  'session',
  'vary',
  'ignoreQuery',
  'key',
  'tags',
  'invalidates',
  'maxBodySize',
  'bypass',
  'allowBody',
  'cacheStatusHeader',
])

function optionalFunction<F>(value: unknown, option: string): F | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'function') throw new ValidationError(`"${option}" must be a function`, option)
  return value as F
}

function stringList(value: unknown, option: string): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item !== '')) {
    throw new ValidationError(`"${option}" must be an array of non-empty strings`, option)
  }
  return value
}

function tagsOption<Req, Res>(value: unknown, option: string): TagsOption<Req, Res> | undefined {
  if (value === undefined || typeof value === 'function') return value as TagsOption<Req, Res> | undefined
  return stringList(value, option)
}

function queryMatcher(patterns: readonly string[]): (name: string) => boolean {
  const exact = new Set(patterns.filter((p) => !p.endsWith('*')))
  const prefixes = patterns.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1))
  return (name) => exact.has(name) || prefixes.some((prefix) => name.startsWith(prefix))
}

/**
 * Validates and normalizes response caching options; throws a `ValidationError` naming the bad option.
 * Unknown keys are refused too, so a typo (`stale: '1m'`) fails at startup instead of silently caching less.
 */
export function normalizeResponseCacheOptions<Req, Res>(
  options: ResponseCacheOptions<Req, Res> & Record<string, unknown>,
  ignore: readonly string[] = [],
): NormalizedResponseCacheOptions<Req, Res> {
  const known = ignore.length === 0 ? KNOWN_OPTIONS : joinNames(KNOWN_OPTIONS, new Set(ignore))
  assertKnownOptions(options, known, 'a response caching option')
  const scope = options.scope ?? 'public'
  if (scope !== 'public' && scope !== 'private') {
    throw new ValidationError(`"scope" must be 'public' or 'private'; got ${String(scope)}`, 'scope')
  }
  const session = optionalFunction<NormalizedResponseCacheOptions<Req, Res>['session']>(
    options.session,
    'session',
  )
  if (scope === 'private' && !session) {
    throw new ValidationError(`"scope: 'private'" needs a "session(req)" resolver`, 'session')
  }
  const statuses = options.statuses ?? DEFAULT_STATUSES
  if (!Array.isArray(statuses) || !statuses.every((s) => Number.isInteger(s) && s >= 200 && s < 600)) {
    throw new ValidationError('"statuses" must be an array of HTTP status codes', 'statuses')
  }
  for (const name of ['cacheStatusHeader', 'allowBody'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') {
      throw new ValidationError(`"${name}" must be a boolean`, name)
    }
  }
  return {
    ttl: optionalDuration(options.ttl, 'ttl'),
    staleWhileRevalidate: optionalDuration(options.staleWhileRevalidate, 'staleWhileRevalidate'),
    grace: optionalDuration(options.grace, 'grace'),
    statuses: new Set(statuses),
    scope,
    session,
    vary: stringList(options.vary, 'vary').map((name) => name.toLowerCase()),
    ignoreQuery: queryMatcher(stringList(options.ignoreQuery, 'ignoreQuery')),
    key: optionalFunction(options.key, 'key'),
    tags: tagsOption(options.tags, 'tags'),
    invalidates: tagsOption(options.invalidates, 'invalidates'),
    maxBodySize: parseSize(options.maxBodySize ?? DEFAULT_MAX_BODY_SIZE, 'maxBodySize'),
    bypass: optionalFunction(options.bypass, 'bypass'),
    allowBody: options.allowBody ?? false,
    cacheStatusHeader: options.cacheStatusHeader ?? false,
  }
}

/** Checks that `cache` looks like a `CacheStack` (or a namespace of one). */
export function assertCacheStore(cache: unknown): asserts cache is HttpCacheStore {
  const store = cache as Partial<HttpCacheStore> | undefined
  if (
    !store ||
    typeof store.getOrSet !== 'function' ||
    typeof store.invalidateByTags !== 'function' ||
    typeof store.getStats !== 'function'
  ) {
    throw new ValidationError('"cache" must be a CacheStack or a namespace of one', 'cache')
  }
}

/** Reads the clock a stack was built with, so `Age` agrees with the stack's idea of time. */
export function clockOf(cache: HttpCacheStore, fallback: Clock): Clock {
  const candidate = (cache as { clock?: Clock }).clock
  return candidate && typeof candidate.now === 'function' ? candidate : fallback
}

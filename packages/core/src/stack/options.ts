import { ValidationError } from '../errors.ts'
import { joinNames, type OptionNames, optionNames } from '../internal/known-options.ts'
import { type Duration, optionalDuration, parseDuration } from '../internal/units.ts'
import type { Clock } from '../layer.ts'
import {
  type CircuitBreakerOptions,
  type ResolvedCircuitBreaker,
  resolveCircuitBreaker,
} from './circuit-breaker.ts'
import type { GracefulDegradationOption } from './degradation.ts'
import { type FetcherRateLimitOptions, type ResolvedRateLimit, resolveRateLimit } from './rate-limiter.ts'
import {
  type AdaptiveTtlOptions,
  type ResolvedAdaptiveTtl,
  type ResolvedTtlPolicy,
  resolveAdaptiveTtl,
  resolveTimeZone,
  resolveTtlPolicy,
  type TtlPolicy,
} from './ttl-policy.ts'
import type { WriteBehindOptions } from './write-behind.ts'

/** A fresh period, or one per layer name (`{ memory: '30s', redis: '10m' }`). */
export type TtlOption = Duration | Record<string, Duration>

/** Options that decide the entry a write stores. Decided when the entry is written and stored with it. */
export interface EntryOptions {
  /** Fresh period. @default '30s' */
  ttl?: TtlOption | undefined
  /** Window after `ttl` in which the stale value is returned at once while one background refresh runs. */
  staleWhileRevalidate?: Duration | undefined
  /** Window after `ttl` in which the stale value is served when a refresh fails or times out. */
  grace?: Duration | false | undefined
  /** Alias of `grace`. */
  staleIfError?: Duration | false | undefined
  /** Tags for group invalidation. */
  tags?: readonly string[] | undefined
  /** Stores `ttl ± uniform(0, ttlJitter)`, never below 1 ms (a ttl of 0 stays 0). @default 0 */
  ttlJitter?: Duration | undefined
  /**
   * Derives the ttl from the clock or the value: `'until-midnight'`, `'next-hour'`, `{ alignTo }` or
   * `({ key, value }) => duration`. Replaces `ttl` when set. @default undefined
   */
  ttlPolicy?: TtlPolicy | undefined
  /** IANA time zone for `ttlPolicy` boundaries. @default undefined (UTC) */
  timeZone?: string | undefined
  /** Each hit moves the end of the fresh period to `now + ttl` (sessions). @default false */
  slidingTtl?: boolean | undefined
  /** Hot keys get longer TTLs, up to a maximum (`true` takes the defaults). @default undefined */
  adaptiveTtl?: boolean | AdaptiveTtlOptions | undefined
}

/** Options of reads that may run a factory. */
export interface ReadOptions extends EntryOptions {
  /** Soft timeout: with a stale value at hand, wait at most this long for the factory, then serve stale. */
  timeout?: Duration | undefined
  /** Reject with `FactoryTimeoutError` after this long (stale is served instead when one is within grace). */
  hardTimeout?: Duration | undefined
  /** After a failed refresh, serve stale without calling the factory again for this long. */
  graceBackoff?: Duration | undefined
  /** Run the factory even on a fresh hit. @default false */
  forceFresh?: boolean | undefined
  /** Cache `undefined` ("not found") results for `negativeTtl`. @default false */
  negativeCache?: boolean | undefined
  /** How long a "not found" result is cached when `negativeCache` is on. @default '5s' */
  negativeTtl?: Duration | undefined
  /** Results for which this returns false are returned but not cached. */
  shouldCache?: ((value: unknown) => boolean) | undefined
  /**
   * Refresh in the background when the remaining fresh time drops below this: a duration, or a fraction
   * of the ttl in (0, 1) such as `0.2`.
   */
  refreshAhead?: Duration | undefined
  /** Returned instead of `undefined` on a miss (object form of `get`). */
  defaultValue?: unknown | undefined
  /** Stops calling a failing factory for a while; `false` turns the stack's breaker off. @default undefined */
  circuitBreaker?: boolean | CircuitBreakerOptions | undefined
  /** Caps how often the factory starts; calls beyond the cap wait. `false` turns it off. @default undefined */
  fetcherRateLimit?: false | FetcherRateLimitOptions | undefined
}

/** Options of `new CacheStack(layers, options)`: defaults for every call, plus the stack's own settings. */
export interface CacheStackOptions extends ReadOptions {
  /** Time source for every TTL, window and backoff decision. @default Date.now */
  clock?: Clock | undefined
  /** Turns on key generations starting at this number (see `bumpGeneration`). */
  generation?: number | undefined
  /** `'best-effort'`: a write succeeds when one layer took it; `'strict'`: every layer must. @default 'best-effort' */
  writePolicy?: 'strict' | 'best-effort' | undefined
  /** Skip a failing shared layer and probe it until it answers. @default true when a local layer exists */
  gracefulDegradation?: GracefulDegradationOption | undefined
  /** `'write-behind'`: local layers at once, shared layers from a bounded queue. @default 'write-through' */
  writeStrategy?: 'write-through' | 'write-behind' | undefined
  /** Queue tuning for `writeStrategy: 'write-behind'`. @default { batchSize: 100, flushInterval: '100ms', maxQueue: 10_000 } */
  writeBehind?: WriteBehindOptions | undefined
  /** Background refreshes that run longer than this are abandoned. @default '30s' */
  backgroundRefreshTimeout?: Duration | undefined
  /** `persistToFile`/`restoreFromFile` paths must resolve inside this directory. @default process.cwd() at construction */
  snapshotBaseDir?: string | undefined
  /**
   * Names the stack in metrics and health answers (`cache` label of `@cachestack/prometheus`), so several
   * stacks of one process stay apart. Letters, digits, `_`, `-`, `.` and `:`, at most 64. @default 'default'
   */
  name?: string | undefined
}

/** Every key `EntryOptions` accepts (`set`, `mset` items, `ctx.setOptions`). */
export const ENTRY_OPTION_NAMES: OptionNames = optionNames<EntryOptions>({
  ttl: true,
  staleWhileRevalidate: true,
  grace: true,
  staleIfError: true,
  tags: true,
  ttlJitter: true,
  ttlPolicy: true,
  timeZone: true,
  slidingTtl: true,
  adaptiveTtl: true,
})

/** Every key `ReadOptions` accepts (`get`, `getOrSet`, `wrap`, `mget` items). */
export const READ_OPTION_NAMES: OptionNames = joinNames(
  ENTRY_OPTION_NAMES,
  optionNames<Omit<ReadOptions, keyof EntryOptions>>({
    timeout: true,
    hardTimeout: true,
    graceBackoff: true,
    forceFresh: true,
    negativeCache: true,
    negativeTtl: true,
    shouldCache: true,
    refreshAhead: true,
    defaultValue: true,
    circuitBreaker: true,
    fetcherRateLimit: true,
  }),
)

/** Every key `CacheStackOptions` accepts (read defaults plus the stack's own settings). */
export const STACK_OPTION_NAMES: OptionNames = joinNames(
  READ_OPTION_NAMES,
  optionNames<Omit<CacheStackOptions, keyof ReadOptions>>({
    clock: true,
    generation: true,
    writePolicy: true,
    gracefulDegradation: true,
    writeStrategy: true,
    writeBehind: true,
    backgroundRefreshTimeout: true,
    snapshotBaseDir: true,
    name: true,
  }),
)

/** @default name of a stack. */
export const DEFAULT_STACK_NAME = 'default'
const STACK_NAME = /^[\w.:-]{1,64}$/

/** Checks the `name` option: a short label value, never free text (it lands in every metric series). */
export function resolveStackName(name: unknown): string {
  if (name === undefined) return DEFAULT_STACK_NAME
  if (typeof name !== 'string' || !STACK_NAME.test(name)) {
    throw new ValidationError(
      '"name" must be 1 to 64 letters, digits, "_", "-", "." or ":" (it labels metrics)',
      'name',
    )
  }
  return name
}

/** Entry options with every duration in ms. */
export interface ResolvedEntryOptions {
  ttl: number
  layerTtls: Readonly<Record<string, number>> | undefined
  staleWhileRevalidate: number
  grace: number
  tags: readonly string[] | undefined
  ttlJitter: number
  ttlPolicy: ResolvedTtlPolicy | undefined
  timeZone: string | undefined
  slidingTtl: boolean
  adaptiveTtl: ResolvedAdaptiveTtl | undefined
}

/** Read options with every duration in ms. */
export interface ResolvedReadOptions extends ResolvedEntryOptions {
  timeout: number | undefined
  hardTimeout: number | undefined
  graceBackoff: number
  forceFresh: boolean
  negativeCache: boolean
  negativeTtl: number
  shouldCache: ((value: unknown) => boolean) | undefined
  /** Absolute ms when >= 1, a fraction of the entry's ttl when in (0, 1). */
  refreshAhead: number | undefined
  circuitBreaker: ResolvedCircuitBreaker | undefined
  fetcherRateLimit: ResolvedRateLimit | undefined
}

export const DEFAULT_TTL = 30_000
export const DEFAULT_NEGATIVE_TTL = 5_000
export const DEFAULT_BACKGROUND_REFRESH_TIMEOUT = 30_000

function resolveTtl(value: TtlOption | undefined, fallback: ResolvedEntryOptions | undefined) {
  if (value === undefined) return { ttl: fallback?.ttl ?? DEFAULT_TTL, layerTtls: fallback?.layerTtls }
  if (typeof value === 'object' && value !== null) {
    const layerTtls: Record<string, number> = {}
    let longest = 0
    for (const [layer, duration] of Object.entries(value)) {
      const ms = parseDuration(duration, `ttl.${layer}`)
      layerTtls[layer] = ms
      longest = Math.max(longest, ms)
    }
    if (Object.keys(layerTtls).length === 0) throw new ValidationError('"ttl" map names no layer', 'ttl')
    return { ttl: longest, layerTtls }
  }
  return { ttl: parseDuration(value, 'ttl'), layerTtls: undefined }
}

function resolveTags(tags: unknown, fallback: readonly string[] | undefined): readonly string[] | undefined {
  if (tags === undefined) return fallback
  if (!Array.isArray(tags) || tags.some((tag) => typeof tag !== 'string' || tag.length === 0)) {
    throw new ValidationError('"tags" must be an array of non-empty strings', 'tags')
  }
  return tags.length === 0 ? undefined : [...new Set(tags as string[])]
}

function resolveGrace(options: EntryOptions, fallback: number): number {
  const value = options.grace ?? options.staleIfError
  if (value === undefined) return fallback
  if (value === false) return 0
  return parseDuration(value, options.grace !== undefined ? 'grace' : 'staleIfError')
}

/** Merges entry options over a resolved base; validates every field it reads. */
export function resolveEntryOptions(
  options: EntryOptions,
  base?: ResolvedEntryOptions,
): ResolvedEntryOptions {
  return {
    ...resolveTtl(options.ttl, base),
    staleWhileRevalidate:
      optionalDuration(options.staleWhileRevalidate, 'staleWhileRevalidate') ??
      base?.staleWhileRevalidate ??
      0,
    grace: resolveGrace(options, base?.grace ?? 0),
    tags: resolveTags(options.tags, base?.tags),
    ttlJitter: optionalDuration(options.ttlJitter, 'ttlJitter') ?? base?.ttlJitter ?? 0,
    ttlPolicy: options.ttlPolicy === undefined ? base?.ttlPolicy : resolveTtlPolicy(options.ttlPolicy),
    timeZone: options.timeZone === undefined ? base?.timeZone : resolveTimeZone(options.timeZone),
    slidingTtl: resolveBoolean(options.slidingTtl, 'slidingTtl') ?? base?.slidingTtl ?? false,
    adaptiveTtl:
      options.adaptiveTtl === undefined ? base?.adaptiveTtl : resolveAdaptiveTtl(options.adaptiveTtl),
  }
}

function resolveBoolean(value: unknown, option: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value
  throw new ValidationError(`"${option}" must be a boolean`, option)
}

/** Merges read options over a resolved base. */
export function resolveReadOptions(options: ReadOptions, base?: ResolvedReadOptions): ResolvedReadOptions {
  if (options.shouldCache !== undefined && typeof options.shouldCache !== 'function') {
    throw new ValidationError('"shouldCache" must be a function', 'shouldCache')
  }
  return {
    ...resolveEntryOptions(options, base),
    timeout: optionalDuration(options.timeout, 'timeout') ?? base?.timeout,
    hardTimeout: optionalDuration(options.hardTimeout, 'hardTimeout') ?? base?.hardTimeout,
    graceBackoff: optionalDuration(options.graceBackoff, 'graceBackoff') ?? base?.graceBackoff ?? 0,
    forceFresh: resolveBoolean(options.forceFresh, 'forceFresh') ?? base?.forceFresh ?? false,
    negativeCache: resolveBoolean(options.negativeCache, 'negativeCache') ?? base?.negativeCache ?? false,
    negativeTtl:
      optionalDuration(options.negativeTtl, 'negativeTtl') ?? base?.negativeTtl ?? DEFAULT_NEGATIVE_TTL,
    shouldCache: options.shouldCache ?? base?.shouldCache,
    refreshAhead: resolveRefreshAhead(options.refreshAhead) ?? base?.refreshAhead,
    circuitBreaker: resolveCircuitBreaker(options.circuitBreaker, base?.circuitBreaker),
    fetcherRateLimit: resolveRateLimit(options.fetcherRateLimit, base?.fetcherRateLimit),
  }
}

function resolveRefreshAhead(value: Duration | undefined): number | undefined {
  if (value === undefined) return undefined
  const ms = parseDuration(value, 'refreshAhead')
  if (ms <= 0)
    throw new ValidationError('"refreshAhead" must be a duration or a fraction in (0, 1)', 'refreshAhead')
  return ms
}

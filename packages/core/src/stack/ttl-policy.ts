import { ValidationError } from '../errors.ts'
import { assertKnownOptions, optionNames } from '../internal/known-options.ts'
import { type Duration, optionalDuration, parseDuration } from '../internal/units.ts'

/**
 * Decides the fresh period from the clock or the value: `'until-midnight'`, `'next-hour'`,
 * `{ alignTo: '5m' }` (the next multiple of the duration), or a function of `{ key, value }`.
 */
export type TtlPolicy =
  | 'until-midnight'
  | 'next-hour'
  | { alignTo: Duration }
  | ((entry: { key: string; value: unknown }) => Duration | undefined)

/** Hot keys get longer TTLs: past `hotAfter` hits, each `hotAfter` more hits add `step`, up to `maxTtl`. */
export interface AdaptiveTtlOptions {
  /** Hits after which a key counts as hot. @default 3 */
  hotAfter?: number | undefined
  /** Added to the ttl per `hotAfter` hits. @default half the ttl */
  step?: Duration | undefined
  /** Longest ttl a hot key reaches. @default ttl + 4 steps */
  maxTtl?: Duration | undefined
}

/** `ttlPolicy` after validation. */
export type ResolvedTtlPolicy =
  | { kind: 'until-midnight' | 'next-hour' }
  | { kind: 'align'; every: number }
  | { kind: 'function'; fn: (entry: { key: string; value: unknown }) => Duration | undefined }

/** `adaptiveTtl` after validation; `undefined` fields default from the ttl at write time. */
export interface ResolvedAdaptiveTtl {
  hotAfter: number
  step: number | undefined
  maxTtl: number | undefined
}

const ADAPTIVE_TTL_NAMES = optionNames<AdaptiveTtlOptions>({ hotAfter: true, step: true, maxTtl: true })
const ALIGN_NAMES = optionNames<{ alignTo: Duration }>({ alignTo: true })
const DEFAULT_HOT_AFTER = 3
/** Keys whose hits are counted for `adaptiveTtl`; the least recently hit are forgotten first. */
export const MAX_ACCESS_PROFILES = 10_000
const HOUR = 3_600_000
const DAY = 86_400_000

export function resolveTtlPolicy(policy: unknown): ResolvedTtlPolicy | undefined {
  if (policy === undefined) return undefined
  if (policy === 'until-midnight' || policy === 'next-hour') return { kind: policy }
  if (typeof policy === 'function') {
    return { kind: 'function', fn: policy as (entry: { key: string; value: unknown }) => Duration }
  }
  if (typeof policy === 'object' && policy !== null && !Array.isArray(policy)) {
    assertKnownOptions(policy, ALIGN_NAMES, 'an option', 'ttlPolicy')
    const every = parseDuration((policy as { alignTo: unknown }).alignTo, 'ttlPolicy.alignTo')
    if (every < 1) throw new ValidationError('"ttlPolicy.alignTo" must be at least 1 ms', 'ttlPolicy.alignTo')
    return { kind: 'align', every }
  }
  throw new ValidationError(
    `"ttlPolicy" must be 'until-midnight', 'next-hour', { alignTo } or a function; got ${String(policy)}`,
    'ttlPolicy',
  )
}

/** Checks an IANA time zone name once, with the runtime's own Intl data. */
export function resolveTimeZone(timeZone: unknown): string | undefined {
  if (timeZone === undefined) return undefined
  if (typeof timeZone !== 'string' || timeZone === '') {
    throw new ValidationError('"timeZone" must be an IANA time zone name such as "Europe/Paris"', 'timeZone')
  }
  try {
    formatterFor(timeZone)
  } catch {
    throw new ValidationError(`"timeZone" is not a time zone this runtime knows: ${timeZone}`, 'timeZone')
  }
  return timeZone
}

export function resolveAdaptiveTtl(option: unknown): ResolvedAdaptiveTtl | undefined {
  if (option === undefined || option === false) return undefined
  if (option === true) return { hotAfter: DEFAULT_HOT_AFTER, step: undefined, maxTtl: undefined }
  if (typeof option !== 'object' || option === null) {
    throw new ValidationError('"adaptiveTtl" must be true or { hotAfter, step, maxTtl }', 'adaptiveTtl')
  }
  assertKnownOptions(option, ADAPTIVE_TTL_NAMES, 'an option', 'adaptiveTtl')
  const { hotAfter = DEFAULT_HOT_AFTER, step, maxTtl } = option as AdaptiveTtlOptions
  if (!Number.isInteger(hotAfter) || hotAfter < 1) {
    throw new ValidationError('"adaptiveTtl.hotAfter" must be a positive integer', 'adaptiveTtl.hotAfter')
  }
  return {
    hotAfter,
    step: optionalDuration(step, 'adaptiveTtl.step'),
    maxTtl: optionalDuration(maxTtl, 'adaptiveTtl.maxTtl'),
  }
}

/** The fresh period a policy gives at `now`; `undefined` when a function policy leaves the ttl alone. */
export function policyTtl(
  policy: ResolvedTtlPolicy,
  timeZone: string | undefined,
  now: number,
  key: string,
  value: unknown,
): number | undefined {
  if (policy.kind === 'function') {
    const result = policy.fn({ key, value })
    return result === undefined ? undefined : parseDuration(result, 'ttlPolicy()')
  }
  const every = policy.kind === 'align' ? policy.every : policy.kind === 'until-midnight' ? DAY : HOUR
  // Boundaries are counted in wall-clock time of the zone, then mapped back to an instant.
  const offset = timeZone === undefined ? 0 : zoneOffset(timeZone, now)
  const wall = now + offset
  const boundary = Math.floor(wall / every) * every + every
  if (timeZone === undefined) return boundary - now
  // The offset at the boundary may differ from now's (a DST change in between).
  const instant = boundary - zoneOffset(timeZone, boundary - offset)
  return instant > now ? instant - now : boundary - offset - now
}

/** The adaptive ttl of a key hit `hits` times. */
export function adaptiveTtl(ttl: number, hits: number, options: ResolvedAdaptiveTtl): number {
  if (ttl <= 0 || hits < options.hotAfter) return ttl
  const step = options.step ?? Math.max(1, Math.round(ttl / 2))
  const max = options.maxTtl ?? ttl + step * 4
  return Math.max(ttl, Math.min(max, ttl + step * Math.floor(hits / options.hotAfter)))
}

/** `ttl ± uniform(0, spread)`, never below 1 ms; a ttl of 0 (stale at once) stays 0. */
export function jitterTtl(ttl: number, spread: number, random: () => number = Math.random): number {
  if (spread <= 0 || ttl <= 0) return ttl
  return Math.max(1, Math.round(ttl + (random() * 2 - 1) * spread))
}

/** Hit counts per key for `adaptiveTtl`, bounded: the least recently hit keys are forgotten first. */
export class AccessProfiles {
  readonly #hits = new Map<string, number>()
  readonly #max: number

  constructor(max = MAX_ACCESS_PROFILES) {
    this.#max = max
  }

  hit(key: string): void {
    const hits = (this.#hits.get(key) ?? 0) + 1
    this.#hits.delete(key)
    this.#hits.set(key, hits)
    if (this.#hits.size > this.#max) this.#hits.delete(this.#hits.keys().next().value!)
  }

  hits(key: string): number {
    return this.#hits.get(key) ?? 0
  }

  forget(key: string): void {
    this.#hits.delete(key)
  }

  get size(): number {
    return this.#hits.size
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone)
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    formatters.set(timeZone, formatter)
  }
  return formatter
}

/** Milliseconds to add to a UTC instant to get the wall-clock time of `timeZone` at that instant. */
export function zoneOffset(timeZone: string, instant: number): number {
  const parts: Record<string, number> = {}
  for (const part of formatterFor(timeZone).formatToParts(instant)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value)
  }
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!)
  const whole = instant - (((instant % 1000) + 1000) % 1000)
  return wall - whole
}

/** The fresh period for a write under `ttlPolicy` and `adaptiveTtl` (before jitter). */
export function entryTtl(
  options: {
    ttl: number
    ttlPolicy: ResolvedTtlPolicy | undefined
    timeZone: string | undefined
    adaptiveTtl: ResolvedAdaptiveTtl | undefined
  },
  key: string,
  value: unknown,
  now: number,
  hits: number,
): number {
  let ttl = options.ttl
  if (options.ttlPolicy) ttl = policyTtl(options.ttlPolicy, options.timeZone, now, key, value) ?? ttl
  if (options.adaptiveTtl) ttl = adaptiveTtl(ttl, hits, options.adaptiveTtl)
  return ttl
}

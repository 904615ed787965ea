import { ValidationError } from '../errors.ts'
import { assertKnownOptions, optionNames } from '../internal/known-options.ts'
import { type Duration, parseDuration } from '../internal/units.ts'
import type { Clock } from '../layer.ts'

/**
 * Limits factory calls, for the whole stack (`scope: 'global'`) or per key (`scope: 'key'`), in one
 * or both of two ways: a start rate (at most `limit` calls start per `window`) and a concurrency cap
 * (at most `maxConcurrent` calls run at once). Calls beyond a limit wait for their turn, in order.
 */
export interface FetcherRateLimitOptions {
  /** Factory calls allowed to start per `window` (give both, or neither). */
  limit?: number | undefined
  /** The sliding window of `limit`. */
  window?: Duration | undefined
  /** Factory calls allowed to run at the same time. */
  maxConcurrent?: number | undefined
  /** One budget for the stack, or one per key. @default 'global' */
  scope?: 'global' | 'key' | undefined
}

/** `fetcherRateLimit` after validation; `limit`/`window` 0 and `maxConcurrent` 0 mean "no cap". */
export interface ResolvedRateLimit {
  limit: number
  window: number
  maxConcurrent: number
  scope: 'global' | 'key'
}

const RATE_LIMIT_NAMES = optionNames<FetcherRateLimitOptions>({
  limit: true,
  window: true,
  maxConcurrent: true,
  scope: true,
})

/** Per-key budgets kept; idle ones are dropped first. */
const MAX_BUCKETS = 10_000
const GLOBAL = '\u0000global'
const FORMS = '{ limit, window, scope? }, { maxConcurrent, scope? } or false'

function positiveInteger(value: unknown, option: string): number {
  if (!Number.isInteger(value) || (value as number) < 1) {
    throw new ValidationError(`"${option}" must be a positive integer; got ${String(value)}`, option)
  }
  return value as number
}

export function resolveRateLimit(option: unknown, base?: ResolvedRateLimit): ResolvedRateLimit | undefined {
  if (option === undefined) return base
  if (option === false) return undefined
  if (typeof option !== 'object' || option === null || Array.isArray(option)) {
    throw new ValidationError(`"fetcherRateLimit" must be ${FORMS}`, 'fetcherRateLimit')
  }
  assertKnownOptions(option, RATE_LIMIT_NAMES, 'an option', 'fetcherRateLimit')
  const { limit, window, maxConcurrent, scope = 'global' } = option as FetcherRateLimitOptions
  if (limit === undefined && window === undefined && maxConcurrent === undefined) {
    throw new ValidationError(`"fetcherRateLimit" must be ${FORMS}`, 'fetcherRateLimit')
  }
  if ((limit === undefined) !== (window === undefined)) {
    const missing = limit === undefined ? 'limit' : 'window'
    throw new ValidationError(
      `"fetcherRateLimit.${missing}" is missing: a start rate needs both "limit" and "window"`,
      `fetcherRateLimit.${missing}`,
    )
  }
  let ms = 0
  if (window !== undefined) {
    ms = parseDuration(window, 'fetcherRateLimit.window')
    if (ms <= 0)
      throw new ValidationError('"fetcherRateLimit.window" must be above 0', 'fetcherRateLimit.window')
  }
  if (scope !== 'global' && scope !== 'key') {
    throw new ValidationError(`"fetcherRateLimit.scope" must be 'global' or 'key'`, 'fetcherRateLimit.scope')
  }
  return {
    limit: limit === undefined ? 0 : positiveInteger(limit, 'fetcherRateLimit.limit'),
    window: ms,
    maxConcurrent:
      maxConcurrent === undefined ? 0 : positiveInteger(maxConcurrent, 'fetcherRateLimit.maxConcurrent'),
    scope,
  }
}

interface Gate {
  running: number
  waiting: (() => void)[]
}

const noop = () => {}

/**
 * A sliding-window log of reserved start times per bucket. A call reserves the earliest start that
 * keeps at most `limit` starts in any `window`, then waits until then: waiting callers keep their
 * order, and a burst is spread evenly over the windows that follow. Reservations read the stack's
 * clock; the waits themselves are timers.
 */
export class FetcherRateLimiter {
  readonly #clock: Clock
  readonly #buckets = new Map<string, number[]>()
  /** Concurrency gates; only gates with a call running are kept. */
  readonly #gates = new Map<string, Gate>()

  constructor(clock: Clock) {
    this.#clock = clock
  }

  /** How long the caller must wait before its call may start (0: start now); the slot is taken. */
  reserve(key: string, options: ResolvedRateLimit): number {
    const id = options.scope === 'key' ? key : GLOBAL
    const now = this.#clock.now()
    let starts = this.#buckets.get(id)
    if (!starts) {
      this.#makeRoom(now)
      starts = []
      this.#buckets.set(id, starts)
    }
    const cut = starts.findIndex((start) => start > now - options.window)
    if (cut === -1) starts.length = 0
    else if (cut > 0) starts.splice(0, cut)
    const at = starts.length < options.limit ? now : starts[starts.length - options.limit]! + options.window
    const start = Math.max(now, at, starts.at(-1) ?? now)
    starts.push(start)
    // Only the last `limit` reservations decide the next one.
    if (starts.length > options.limit) starts.splice(0, starts.length - options.limit)
    return start - now
  }

  /**
   * Waits for a concurrency slot (when `maxConcurrent` is set), then for a start slot (when `limit` is
   * set); rejects with the signal's reason when it aborts first. Resolves to the function that gives
   * the concurrency slot back, to be called once the factory has settled.
   */
  async acquire(key: string, options: ResolvedRateLimit, signal: AbortSignal): Promise<() => void> {
    const release =
      options.maxConcurrent > 0
        ? await this.#enter(options.scope === 'key' ? key : GLOBAL, options.maxConcurrent, signal)
        : noop
    if (options.limit === 0) return release
    try {
      await this.#waitForStart(key, options, signal)
    } catch (error) {
      release()
      throw error
    }
    return release
  }

  async #waitForStart(key: string, options: ResolvedRateLimit, signal: AbortSignal): Promise<void> {
    const wait = this.reserve(key, options)
    if (wait <= 0) return
    signal.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer)
        reject(signal.reason)
      }
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort)
        resolve()
      }, wait)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Takes one of `max` slots of gate `id`, waiting in order; a released slot passes to the next waiter. */
  #enter(id: string, max: number, signal: AbortSignal): Promise<() => void> {
    let gate = this.#gates.get(id)
    if (!gate) {
      gate = { running: 0, waiting: [] }
      this.#gates.set(id, gate)
    }
    const current = gate
    let released = false
    const release = () => {
      if (released) return
      released = true
      const next = current.waiting.shift()
      if (next) return next()
      current.running--
      if (current.running === 0 && this.#gates.get(id) === current) this.#gates.delete(id)
    }
    if (current.running < max) {
      current.running++
      return Promise.resolve(release)
    }
    if (signal.aborted) return Promise.reject(signal.reason)
    return new Promise((resolve, reject) => {
      const admit = () => {
        signal.removeEventListener('abort', onAbort)
        resolve(release)
      }
      const onAbort = () => {
        const at = current.waiting.indexOf(admit)
        if (at !== -1) current.waiting.splice(at, 1)
        reject(signal.reason)
      }
      current.waiting.push(admit)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  #makeRoom(now: number): void {
    if (this.#buckets.size < MAX_BUCKETS) return
    for (const [id, starts] of this.#buckets) {
      if ((starts.at(-1) ?? 0) <= now) this.#buckets.delete(id)
      if (this.#buckets.size < MAX_BUCKETS / 2) return
    }
  }
}

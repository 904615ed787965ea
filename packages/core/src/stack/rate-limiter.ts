import { ValidationError } from '../errors.ts'
import { type Duration, parseDuration } from '../internal/units.ts'
import type { Clock } from '../layer.ts'

/**
 * At most `limit` factory calls start per `window`, for the whole stack (`scope: 'global'`) or per
 * key (`scope: 'key'`). Calls beyond the limit wait for their turn, in order.
 */
export interface FetcherRateLimitOptions {
  /** Factory calls allowed to start per window. */
  limit: number
  /** The sliding window. */
  window: Duration
  /** One budget for the stack, or one per key. @default 'global' */
  scope?: 'global' | 'key'
}

/** `fetcherRateLimit` after validation. */
export interface ResolvedRateLimit {
  limit: number
  window: number
  scope: 'global' | 'key'
}

/** Per-key budgets kept; idle ones are dropped first. */
const MAX_BUCKETS = 10_000
const GLOBAL = '\u0000global'

export function resolveRateLimit(option: unknown, base?: ResolvedRateLimit): ResolvedRateLimit | undefined {
  if (option === undefined) return base
  if (option === false) return undefined
  if (typeof option !== 'object' || option === null) {
    throw new ValidationError(
      '"fetcherRateLimit" must be { limit, window, scope? } or false',
      'fetcherRateLimit',
    )
  }
  const { limit, window, scope = 'global' } = option as FetcherRateLimitOptions
  if (!Number.isInteger(limit) || limit < 1) {
    throw new ValidationError('"fetcherRateLimit.limit" must be a positive integer', 'fetcherRateLimit.limit')
  }
  const ms = parseDuration(window, 'fetcherRateLimit.window')
  if (ms <= 0)
    throw new ValidationError('"fetcherRateLimit.window" must be above 0', 'fetcherRateLimit.window')
  if (scope !== 'global' && scope !== 'key') {
    throw new ValidationError(`"fetcherRateLimit.scope" must be 'global' or 'key'`, 'fetcherRateLimit.scope')
  }
  return { limit, window: ms, scope }
}

/**
 * A sliding-window log of reserved start times per bucket. A call reserves the earliest start that
 * keeps at most `limit` starts in any `window`, then waits until then: waiting callers keep their
 * order, and a burst is spread evenly over the windows that follow. Reservations read the stack's
 * clock; the waits themselves are timers.
 */
export class FetcherRateLimiter {
  readonly #clock: Clock
  readonly #buckets = new Map<string, number[]>()

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

  /** Waits for a reserved slot; rejects with the signal's reason when it aborts first. */
  async acquire(key: string, options: ResolvedRateLimit, signal: AbortSignal): Promise<void> {
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

  #makeRoom(now: number): void {
    if (this.#buckets.size < MAX_BUCKETS) return
    for (const [id, starts] of this.#buckets) {
      if ((starts.at(-1) ?? 0) <= now) this.#buckets.delete(id)
      if (this.#buckets.size < MAX_BUCKETS / 2) return
    }
  }
}

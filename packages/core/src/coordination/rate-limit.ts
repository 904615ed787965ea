// `rateLimit`: a sliding window counted exactly, whatever the number of instances. The window is a log
// of request times (a sorted set on Redis), not the two-counter approximation: that estimate can let a
// burst at a window boundary through or refuse a request that fits, and "exactly `limit` per window
// across processes" is the promise. The cost is memory: up to `limit` times per key (~16 bytes each in a
// small sorted set), so a limit of thousands per key is better split into shorter windows.

import { ValidationError } from '../errors.ts'
import { assertKnownOptions, optionNames } from '../internal/known-options.ts'
import { type Duration, parseDuration } from '../internal/units.ts'
import { assertKey } from '../stack/keys.ts'
import type { StackView } from '../stack/view.ts'
import { storeFor } from './stores.ts'

/** Options of `cache.rateLimit(options)`. */
export interface RateLimitOptions {
  /** What is limited: a user id, an IP, `'login:' + email`... (namespaced like every key of the view). */
  key: string
  /** Requests allowed in any `window`. */
  limit: number
  /** Length of the sliding window. */
  window: Duration
  /**
   * The answer while Redis fails (down, or no reply within the layer's `commandTimeout`): `'allow'` lets
   * the request through (fail-open), `'deny'` refuses it (fail-closed, for logins and other abuse
   * targets). Either way an `error` event is emitted. @default 'allow'
   */
  onError?: 'allow' | 'deny' | undefined
}

/** What `cache.rateLimit()` answers. */
export interface RateLimitResult {
  /** True when this request fits in the window (and was counted). */
  allowed: boolean
  /** The `limit` asked for. */
  limit: number
  /** Requests still allowed in the window after this one. */
  remaining: number
  /** When the oldest counted request leaves the window and frees a slot (stack clock, epoch ms). */
  resetAt: number
  /** Ms to wait before a request can be allowed: 0 when allowed. */
  retryAfter: number
  /** Set when the store failed and `onError` decided the answer. */
  error?: unknown
}

const RATE_LIMIT_OPTION_NAMES = optionNames<RateLimitOptions>({
  key: true,
  limit: true,
  window: true,
  onError: true,
})

/** A refused request under `onError: 'deny'` is told to come back after this long (or the window, if shorter). */
const DENIED_RETRY = 1_000

/** `cache.rateLimit(options)`. */
export async function rateLimit(view: StackView, options: RateLimitOptions): Promise<RateLimitResult> {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('rateLimit() needs options: { key, limit, window }', 'options')
  }
  assertKnownOptions(options, RATE_LIMIT_OPTION_NAMES, 'an option of rateLimit()')
  const { key, limit, onError = 'allow' } = options
  assertKey(key)
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new ValidationError(`"limit" must be a positive integer; got ${String(limit)}`, 'limit')
  }
  const window = Math.ceil(parseDuration(options.window, 'window'))
  if (window < 1) throw new ValidationError('"window" must be at least 1ms', 'window')
  if (onError !== 'allow' && onError !== 'deny') {
    throw new ValidationError(`"onError" must be 'allow' or 'deny'; got ${String(onError)}`, 'onError')
  }
  const engine = view.engine
  const store = storeFor(engine)
  const now = engine.clock.now()
  try {
    const { allowed, count, oldest } = await store.hit(view.namespace + key, limit, window, now)
    const resetAt = oldest + window
    return {
      allowed,
      limit,
      remaining: Math.max(0, limit - count),
      resetAt,
      retryAfter: allowed ? 0 : Math.max(1, resetAt - now),
    }
  } catch (error) {
    engine.emitter.emitError(error, 'rateLimit', view.namespace + key)
    const allowed = onError === 'allow'
    const retryAfter = allowed ? 0 : Math.min(window, DENIED_RETRY)
    return { allowed, limit, remaining: 0, resetAt: now + retryAfter, retryAfter, error }
  }
}

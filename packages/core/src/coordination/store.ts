// What a stack's locks and rate-limit windows need from where they are kept (Redis or memory).

/** One request counted against a sliding window: what the store answers. */
export interface WindowHit {
  /** True when the request was counted (the window had room). */
  allowed: boolean
  /** Requests in the window after this one (a refused request is not counted). */
  count: number
  /** Time of the oldest request still in the window (stack clock, ms), or `now` when none. */
  oldest: number
}

/** Locks and sliding windows of one stack; keys are the view's (namespace included). */
export interface CoordinationStore {
  /** `'redis'` (shared by every instance on the Redis) or `'memory'` (this process only). */
  readonly kind: 'redis' | 'memory'
  /** Takes `key` for `owner` for `ttl` ms when nobody holds it. */
  acquire(key: string, owner: string, ttl: number): Promise<boolean>
  /** Removes `key` only when `owner` holds it. */
  release(key: string, owner: string): Promise<boolean>
  /** Sets the remaining time of `key` to `ttl` ms only when `owner` holds it. */
  extend(key: string, owner: string, ttl: number): Promise<boolean>
  /** True when `owner` holds `key`. */
  holds(key: string, owner: string): Promise<boolean>
  /** Counts one request at `now` in the sliding window of `key` when fewer than `limit` are in it. */
  hit(key: string, limit: number, window: number, now: number): Promise<WindowHit>
}

/** Prefix of lock keys in the shared layer (beside the stack's other system keys, `__cs:`). */
export const LOCK_PREFIX = '__cs:lock:'
/** Prefix of rate-limit window keys in the shared layer. */
export const RATE_PREFIX = '__cs:rate:'

// The coordination methods of a stack: locks (with Enfyra's acquire/release/exists names) and rate
// limits. A base class of the facade, so cache-stack.ts keeps to caching.

import type { Duration } from '../internal/units.ts'
import { KeyspaceMethods } from '../keyspace/keyspace-methods.ts'
import type { OperationName } from '../stack/tracing.ts'
import type { StackView } from '../stack/view.ts'
import type { HeldLock, Lock, LockOptions, WithLockOptions } from './lock.ts'
import * as locks from './lock.ts'
import { type RateLimitOptions, type RateLimitResult, rateLimit } from './rate-limit.ts'

/** Locks and rate limits of every `CacheStack` and namespace view: on its Redis layer, else in memory. */
export class CoordinationMethods extends KeyspaceMethods {
  readonly #view: StackView

  constructor(view: StackView) {
    super(view)
    this.#view = view
  }

  /** Tries to take the lock `key` for `ttl`; answers at once (or after up to `wait`) with `{ acquired, release, extend }`. */
  lock(key: string, options: LockOptions): Promise<Lock> {
    return this.#view.trace(this.#about('lock', key), () => locks.lock(this.#view, key, options))
  }

  /** Runs `fn` holding the lock `key` (extended while it runs), then releases it; `LockNotAcquiredError` if held. */
  withLock<R>(
    key: string,
    fn: (lock: HeldLock) => R | Promise<R>,
    options: WithLockOptions,
  ): Promise<Awaited<R>> {
    return this.#view.trace(this.#about('lock', key), () =>
      locks.withLock(this.#view, key, fn, options),
    ) as Promise<Awaited<R>>
  }

  /** Counts one request against the sliding window of `key`: `{ allowed, remaining, resetAt, retryAfter }`. */
  rateLimit(options: RateLimitOptions): Promise<RateLimitResult> {
    const key = typeof options === 'object' && options !== null ? options.key : undefined
    return this.#view.trace(this.#about('rateLimit', key), () => rateLimit(this.#view, options))
  }

  /** Enfyra form of `lock`: takes `key` for owner `value` for `ttl` (ms or a duration), at once; true when taken. */
  acquire(key: string, value: string, ttl: Duration): Promise<boolean> {
    return this.#view.trace(this.#about('lock', key), () => locks.acquireAs(this.#view, key, value, ttl))
  }

  /** Enfyra form of `Lock.release`: frees `key` only when owner `value` holds it. */
  release(key: string, value: string): Promise<boolean> {
    return this.#view.trace(this.#about('unlock', key), () => locks.releaseAs(this.#view, key, value))
  }

  /** Enfyra's `exists`: true when owner `value` holds the lock `key`. */
  exists(key: string, value: string): Promise<boolean> {
    return locks.holdsAs(this.#view, key, value)
  }

  #about(
    operation: 'lock' | 'unlock' | 'rateLimit',
    key: unknown,
  ): () => { operation: OperationName; key?: string } {
    return () => ({ operation, key: this.#view.visible(key) })
  }
}

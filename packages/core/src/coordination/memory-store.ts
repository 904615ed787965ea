// Locks and sliding windows of a stack without Redis: held in this process, timed on the stack's clock
// (so tests move time with the `clock` option instead of sleeping).

import type { Clock } from '../layer.ts'
import type { CoordinationStore, WindowHit } from './store.ts'

interface Held {
  owner: string
  until: number
}

// Expired locks and empty windows are dropped on access, and all at once every this many writes.
const SWEEP_EVERY = 1024

/** `CoordinationStore` in memory: the same answers as on Redis, for one process. */
export class MemoryCoordination implements CoordinationStore {
  readonly kind = 'memory'
  readonly #clock: Clock
  readonly #locks = new Map<string, Held>()
  // Request times per window key, oldest first.
  readonly #windows = new Map<string, { times: number[]; window: number }>()
  #writes = 0

  constructor(clock: Clock) {
    this.#clock = clock
  }

  async acquire(key: string, owner: string, ttl: number): Promise<boolean> {
    if (this.#live(key) !== undefined) return false
    this.#sweepSometimes()
    this.#locks.set(key, { owner, until: this.#clock.now() + ttl })
    return true
  }

  async release(key: string, owner: string): Promise<boolean> {
    if (this.#live(key)?.owner !== owner) return false
    return this.#locks.delete(key)
  }

  async extend(key: string, owner: string, ttl: number): Promise<boolean> {
    const held = this.#live(key)
    if (held?.owner !== owner) return false
    held.until = this.#clock.now() + ttl
    return true
  }

  async holds(key: string, owner: string): Promise<boolean> {
    return this.#live(key)?.owner === owner
  }

  async hit(key: string, limit: number, window: number, now: number): Promise<WindowHit> {
    let log = this.#windows.get(key)
    if (!log) {
      this.#sweepSometimes()
      this.#windows.set(key, (log = { times: [], window }))
    }
    log.window = window
    const times = log.times
    // Same rule as the Redis script: a time at or before `now - window` has left the window.
    let gone = 0
    while (gone < times.length && times[gone]! <= now - window) gone++
    if (gone > 0) times.splice(0, gone)
    const allowed = times.length < limit
    if (allowed) {
      // A clock that stepped back still keeps the log ordered.
      let at = times.length
      while (at > 0 && times[at - 1]! > now) at--
      times.splice(at, 0, now)
    }
    return { allowed, count: times.length, oldest: times[0] ?? now }
  }

  #live(key: string): Held | undefined {
    const held = this.#locks.get(key)
    if (held === undefined) return undefined
    if (held.until > this.#clock.now()) return held
    this.#locks.delete(key)
    return undefined
  }

  #sweepSometimes(): void {
    if (++this.#writes % SWEEP_EVERY !== 0) return
    const now = this.#clock.now()
    for (const [key, held] of this.#locks) if (held.until <= now) this.#locks.delete(key)
    for (const [key, log] of this.#windows) {
      const newest = log.times[log.times.length - 1]
      if (newest === undefined || newest <= now - log.window) this.#windows.delete(key)
    }
  }
}

import type { CacheEntry } from '../layer.ts'

/**
 * What `MemoryLayer` needs from the structure holding its entries; one implementation per eviction
 * policy. Expiry is lazy: an expired entry is dropped when it is next looked at, never by a timer.
 */
export interface EntryStore {
  /**
   * The live entry under `key`; counts as a use for the eviction policy. `now` is the stack clock's
   * reading for this read when the caller has one (then the store does not read the clock again).
   */
  get(key: string, now?: number): CacheEntry | undefined
  /** Stores `entry` for `ttl` ms (`undefined` = no expiry); `size` is its byte estimate when a budget is set. */
  set(key: string, entry: CacheEntry, ttl: number | undefined, size: number): void
  delete(key: string): boolean
  clear(): void
  /** True when a live entry is under `key`; not a use. */
  has(key: string): boolean
  /** Remaining lifetime in ms, `Infinity` without expiry, `undefined` when absent or expired. */
  remainingTtl(key: string): number | undefined
  /** Every key held; may include expired entries not yet dropped. */
  keys(): IterableIterator<string>
  /** Entries held, expired ones not yet dropped included. */
  readonly size: number
  /** Sum of the sizes given to `set` for the entries held. */
  readonly bytes: number
}

/** Limits and clock shared by every store. */
export interface EntryStoreOptions {
  maxItems: number | undefined
  maxBytes: number | undefined
  now: () => number
}

import { LRUCache } from 'lru-cache'
import type { CacheEntry } from '../layer.ts'
import type { EntryStore, EntryStoreOptions } from './entry-store.ts'

// lru-cache treats a start time of 0 as "no TTL"; a fake clock that starts at 0 would make every entry
// immortal. Only differences of this clock matter, so a constant offset keeps it away from 0.
const CLOCK_OFFSET = 2 ** 40

/** `'lru'` and `'fifo'` eviction on `lru-cache`; FIFO simply never lets a read refresh recency. */
export class LruStore implements EntryStore {
  readonly #cache: LRUCache<string, CacheEntry>
  readonly #readsRefresh: boolean
  /** The time of the `get` in progress when its caller gave one: lru-cache's expiry check reads it. */
  #at: number | undefined

  constructor(options: EntryStoreOptions, policy: 'lru' | 'fifo') {
    const { maxItems, maxBytes, now } = options
    this.#readsRefresh = policy === 'lru'
    this.#cache = new LRUCache<string, CacheEntry>({
      ...(maxItems !== undefined ? { max: maxItems } : {}),
      ...(maxBytes !== undefined ? { maxSize: maxBytes } : {}),
      ttl: 0,
      ttlAutopurge: false,
      // The default (1 ms) caches the clock behind a setTimeout per call: a timer on the hot path, and a
      // stale time right after a test advances its fake clock.
      ttlResolution: 0,
      allowStale: false,
      perf: { now: () => (this.#at ?? now()) + CLOCK_OFFSET },
    })
  }

  get(key: string, now?: number): CacheEntry | undefined {
    // A clock read costs 100+ ns on some virtual machines (kvm-clock): an L1 hit, which has read the
    // clock already for its freshness test, lends that reading to lru-cache's expiry check.
    this.#at = now
    try {
      return this.#readsRefresh ? this.#cache.get(key) : this.#cache.peek(key)
    } finally {
      this.#at = undefined
    }
  }

  set(key: string, entry: CacheEntry, ttl: number | undefined, size: number): void {
    this.#cache.set(key, entry, {
      ...(ttl !== undefined && Number.isFinite(ttl) ? { ttl } : {}),
      ...(this.#cache.maxSize ? { size: Math.max(1, size) } : {}),
    })
  }

  delete(key: string): boolean {
    return this.#cache.delete(key)
  }

  clear(): void {
    this.#cache.clear()
  }

  has(key: string): boolean {
    return this.#cache.has(key)
  }

  remainingTtl(key: string): number | undefined {
    if (!this.#cache.has(key)) return undefined
    return this.#cache.getRemainingTTL(key)
  }

  keys(): IterableIterator<string> {
    return this.#cache.keys()
  }

  get size(): number {
    return this.#cache.size
  }

  get bytes(): number {
    return this.#cache.calculatedSize
  }
}

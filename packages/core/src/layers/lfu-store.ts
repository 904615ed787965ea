// Least-frequently-used eviction in O(1) per operation, after Shah, Mitra and Matani, "An O(1)
// algorithm for implementing the LFU cache eviction scheme" (2010): entries sit in buckets of equal
// use count, the buckets form a list sorted by count, so the victim is always the oldest entry of the
// first bucket and a use moves an entry one bucket up. lru-cache has no LFU mode.
import type { CacheEntry } from '../layer.ts'
import type { EntryStore, EntryStoreOptions } from './entry-store.ts'

interface Bucket {
  readonly count: number
  /** Insertion-ordered, so ties between equally used entries go to the least recently used. */
  readonly items: Set<Item>
  prev: Bucket | undefined
  next: Bucket | undefined
}

interface Item {
  readonly key: string
  entry: CacheEntry
  size: number
  /** Epoch ms after which the entry is gone; `Infinity` when it never expires. */
  expiresAt: number
  bucket: Bucket
}

// Expired entries that nobody reads again would otherwise stay until eviction reaches their bucket,
// which for a once-popular entry is never. Each write inspects this many entries, round-robin.
const SWEEP_PER_WRITE = 2

/** `'lfu'` eviction: the entry used least often leaves first; among equals, the least recently used. */
export class LfuStore implements EntryStore {
  readonly #items = new Map<string, Item>()
  readonly #maxItems: number
  readonly #maxBytes: number
  readonly #now: () => number
  /** The bucket with the lowest use count. */
  #head: Bucket | undefined
  #bytes = 0
  #sweep: IterableIterator<Item> = this.#items.values()

  constructor(options: EntryStoreOptions) {
    this.#maxItems = options.maxItems ?? Number.POSITIVE_INFINITY
    this.#maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY
    this.#now = options.now
  }

  get(key: string, now?: number): CacheEntry | undefined {
    const item = this.#live(key, now)
    if (item === undefined) return undefined
    this.#use(item)
    return item.entry
  }

  set(key: string, entry: CacheEntry, ttl: number | undefined, size: number): void {
    const expiresAt = ttl === undefined ? Number.POSITIVE_INFINITY : this.#now() + ttl
    if (size > this.#maxBytes) {
      this.delete(key)
      return
    }
    // An expired entry starts over: its old popularity says nothing about the new value.
    let item = this.#live(key)
    if (item) {
      this.#bytes += size - item.size
      item.entry = entry
      item.size = size
      item.expiresAt = expiresAt
      this.#use(item)
    } else {
      let first = this.#head
      if (first === undefined || first.count !== 1) {
        first = { count: 1, items: new Set(), prev: undefined, next: first }
        if (this.#head) this.#head.prev = first
        this.#head = first
      }
      item = { key, entry, size, expiresAt, bucket: first }
      first.items.add(item)
      this.#items.set(key, item)
      this.#bytes += size
    }
    this.#evict(item)
    this.#sweepSome()
  }

  delete(key: string): boolean {
    const item = this.#items.get(key)
    if (item === undefined) return false
    this.#remove(item)
    return true
  }

  clear(): void {
    this.#items.clear()
    this.#head = undefined
    this.#bytes = 0
  }

  has(key: string): boolean {
    return this.#live(key) !== undefined
  }

  remainingTtl(key: string): number | undefined {
    const item = this.#live(key)
    if (item === undefined) return undefined
    return item.expiresAt === Number.POSITIVE_INFINITY ? item.expiresAt : item.expiresAt - this.#now()
  }

  *keys(): IterableIterator<string> {
    const now = this.#now()
    for (const item of this.#items.values()) {
      if (item.expiresAt < now) this.#remove(item)
      else yield item.key
    }
  }

  /** How often the entry under `key` was written or read, for tests and diagnostics. */
  frequency(key: string): number | undefined {
    return this.#items.get(key)?.bucket.count
  }

  get size(): number {
    return this.#items.size
  }

  get bytes(): number {
    return this.#bytes
  }

  #live(key: string, now?: number): Item | undefined {
    const item = this.#items.get(key)
    if (item === undefined) return undefined
    if (item.expiresAt < (now ?? this.#now())) {
      this.#remove(item)
      return undefined
    }
    return item
  }

  #use(item: Item): void {
    const from = item.bucket
    let to = from.next
    if (to === undefined || to.count !== from.count + 1) {
      to = { count: from.count + 1, items: new Set(), prev: from, next: to }
      if (from.next) from.next.prev = to
      from.next = to
    }
    from.items.delete(item)
    to.items.add(item)
    item.bucket = to
    if (from.items.size === 0) this.#unlink(from)
  }

  /** Evicts until within limits, sparing `written`: an entry must survive the write that stored it. */
  #evict(written: Item): void {
    while (this.#items.size > this.#maxItems || this.#bytes > this.#maxBytes) {
      let victim: Item | undefined
      for (let bucket = this.#head; bucket !== undefined && victim === undefined; bucket = bucket.next) {
        for (const item of bucket.items) {
          if (item !== written) {
            victim = item
            break
          }
        }
      }
      if (victim === undefined) return
      this.#remove(victim)
    }
  }

  #sweepSome(): void {
    const now = this.#now()
    for (let i = 0; i < SWEEP_PER_WRITE; i++) {
      let next = this.#sweep.next()
      if (next.done) {
        this.#sweep = this.#items.values()
        next = this.#sweep.next()
        if (next.done) return
      }
      if (next.value.expiresAt < now) this.#remove(next.value)
    }
  }

  #remove(item: Item): void {
    this.#items.delete(item.key)
    this.#bytes -= item.size
    item.bucket.items.delete(item)
    if (item.bucket.items.size === 0) this.#unlink(item.bucket)
  }

  #unlink(bucket: Bucket): void {
    if (bucket.prev) bucket.prev.next = bucket.next
    else this.#head = bucket.next
    if (bucket.next) bucket.next.prev = bucket.prev
  }
}

import { LRUCache } from 'lru-cache'
import { LayerError, ValidationError } from '../errors.ts'
import { estimateBytes, frozenCopy } from '../internal/freeze.ts'
import type { Size } from '../internal/units.ts'
import { optionalSize } from '../internal/units.ts'
import {
  type CacheEntry,
  type CacheLayer,
  type Clock,
  type LayerContext,
  type LayerWrite,
  systemClock,
} from '../layer.ts'

/** How values are handed out. */
export type MemoryValueMode = 'frozen-copy' | 'reference'

export interface MemoryLayerOptions {
  /** Layer name used in stats and per-layer TTL maps. @default 'memory' */
  name?: string
  /** Most entries held. @default 10_000 (unbounded only if `maxBytes` is given) */
  maxItems?: number
  /** Total byte budget, e.g. `'100mb'`; sizes are estimated on write. */
  maxBytes?: Size
  /** Entries larger than this are refused with a `LayerError`. @default maxBytes */
  maxEntryBytes?: Size
  /** Which entry leaves first when the layer is full. @default 'lru' */
  eviction?: 'lru' | 'lfu' | 'fifo'
  /**
   * `'frozen-copy'` stores a deep-frozen copy of every value written, so a caller can never change what
   * the cache holds and a hit hands the value out with no copy at all. `'reference'` stores what it is
   * given (fastest writes; mutating a value then changes the cached one). @default 'frozen-copy'
   */
  values?: MemoryValueMode
}

const DEFAULT_MAX_ITEMS = 10_000

/**
 * The in-process layer, on `lru-cache`. Expiry is lazy (no timers), so any TTL works, including those
 * longer than the 24.8 days a `setTimeout` can hold.
 */
export class MemoryLayer implements CacheLayer {
  readonly name: string
  readonly isLocal = true
  readonly #cache: LRUCache<string, CacheEntry>
  readonly #readsRefresh: boolean
  readonly #copy: boolean
  readonly #maxEntryBytes: number | undefined
  #clock: Clock = systemClock

  constructor(options: MemoryLayerOptions = {}) {
    const maxBytes = optionalSize(options.maxBytes, 'maxBytes')
    const maxEntryBytes = optionalSize(options.maxEntryBytes, 'maxEntryBytes')
    const eviction = options.eviction ?? 'lru'
    if (eviction !== 'lru' && eviction !== 'lfu' && eviction !== 'fifo') {
      throw new ValidationError(
        `"eviction" must be 'lru', 'lfu' or 'fifo'; got ${String(eviction)}`,
        'eviction',
      )
    }
    const maxItems = options.maxItems ?? (maxBytes === undefined ? DEFAULT_MAX_ITEMS : undefined)
    if (maxItems !== undefined && (!Number.isInteger(maxItems) || maxItems < 1)) {
      throw new ValidationError(`"maxItems" must be a positive integer; got ${maxItems}`, 'maxItems')
    }
    const values = options.values ?? 'frozen-copy'
    if (values !== 'frozen-copy' && values !== 'reference') {
      throw new ValidationError(
        `"values" must be 'frozen-copy' or 'reference'; got ${String(values)}`,
        'values',
      )
    }
    this.name = options.name ?? 'memory'
    this.#copy = values === 'frozen-copy'
    this.#readsRefresh = eviction !== 'fifo'
    this.#maxEntryBytes = maxEntryBytes ?? maxBytes
    this.#cache = new LRUCache<string, CacheEntry>({
      ...(maxItems !== undefined ? { max: maxItems } : {}),
      ...(maxBytes !== undefined ? { maxSize: maxBytes, sizeCalculation: (entry) => entryBytes(entry) } : {}),
      ttl: 0,
      ttlAutopurge: false,
      allowStale: false,
      perf: { now: () => this.#clock.now() },
    })
  }

  attach(context: LayerContext): void {
    this.#clock = context.clock
  }

  get(key: string): CacheEntry | undefined {
    return this.#readsRefresh ? this.#cache.get(key) : this.#cache.peek(key)
  }

  async getMany(keys: readonly string[]): Promise<(CacheEntry | undefined)[]> {
    return keys.map((key) => this.get(key))
  }

  set(key: string, entry: CacheEntry, ttl: number | undefined): void {
    const stored = this.#copy ? { ...entry, value: frozenCopy(entry.value) } : entry
    if (this.#maxEntryBytes !== undefined) {
      const size = entryBytes(stored)
      if (size > this.#maxEntryBytes) {
        this.#cache.delete(key)
        throw new LayerError(
          this.name,
          'set',
          new RangeError(`entry of ~${size} bytes exceeds maxEntryBytes`),
        )
      }
    }
    if (ttl !== undefined && ttl <= 0) {
      this.#cache.delete(key)
      return
    }
    this.#cache.set(key, stored, ttl === undefined || !Number.isFinite(ttl) ? {} : { ttl })
  }

  async setMany(writes: readonly LayerWrite[]): Promise<void> {
    for (const { key, entry, ttl } of writes) this.set(key, entry, ttl)
  }

  async delete(key: string): Promise<boolean> {
    return this.#cache.delete(key)
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    let removed = 0
    for (const key of keys) if (this.#cache.delete(key)) removed++
    return removed
  }

  async clear(prefix?: string): Promise<void> {
    if (!prefix) {
      this.#cache.clear()
      return
    }
    for (const key of [...this.#cache.keys()]) if (key.startsWith(prefix)) this.#cache.delete(key)
  }

  async *keys(prefix = ''): AsyncIterable<string> {
    for (const key of [...this.#cache.keys()]) {
      if (key.startsWith(prefix) && this.#cache.has(key)) yield key
    }
  }

  async has(key: string): Promise<boolean> {
    return this.#cache.has(key)
  }

  async ttl(key: string): Promise<number | undefined> {
    if (!this.#cache.has(key)) return undefined
    const remaining = this.#cache.getRemainingTTL(key)
    return remaining > 0 ? remaining : Number.POSITIVE_INFINITY
  }

  /** Number of entries held (expired ones not yet swept included). */
  get size(): number {
    return this.#cache.size
  }

  /** Estimated bytes held, when a byte budget is set. */
  get bytes(): number {
    return this.#cache.calculatedSize
  }

  async ping(): Promise<void> {}

  async dispose(): Promise<void> {
    this.#cache.clear()
  }
}

function entryBytes(entry: CacheEntry): number {
  return estimateBytes(entry.value) + 96 + (entry.tags ? entry.tags.length * 24 : 0)
}

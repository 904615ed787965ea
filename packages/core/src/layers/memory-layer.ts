import { LayerError, ValidationError } from '../errors.ts'
import { estimateBytes } from '../internal/estimate-bytes.ts'
import { assertKnownOptions, optionNames } from '../internal/known-options.ts'
import { optionalSize, type Size } from '../internal/units.ts'
import { ANY_VALUES, STRUCTURED_VALUES, type ValueSupport } from '../internal/value-check.ts'
import {
  type CacheEntry,
  type CacheLayer,
  type Clock,
  isUnshared,
  type LayerContext,
  type LayerUsage,
  type LayerWrite,
  systemClock,
} from '../layer.ts'
import type { EntryStore } from './entry-store.ts'
import { LfuStore } from './lfu-store.ts'
import { LruStore } from './lru-store.ts'
import { freezeInPlace, frozenCopy } from './memory-values.ts'

/** How values are handed out. */
export type MemoryValueMode = 'frozen-copy' | 'reference'

/** Which entry leaves first when a `MemoryLayer` is full. */
export type MemoryEviction = 'lru' | 'lfu' | 'fifo'

/** Options of `MemoryLayer`. */
export interface MemoryLayerOptions {
  /** Layer name used in stats and per-layer TTL maps. @default 'memory' */
  name?: string | undefined
  /** Most entries held. @default 10_000 (unbounded only if `maxBytes` is given) */
  maxItems?: number | undefined
  /** Total byte budget, e.g. `'100mb'`; sizes are estimated on write. @default undefined (no budget) */
  maxBytes?: Size | undefined
  /** Entries larger than this are refused with a `LayerError`; at most `maxBytes`. @default maxBytes */
  maxEntryBytes?: Size | undefined
  /**
   * `'lru'` evicts the least recently used entry, `'lfu'` the least often used one (ties: least
   * recently used), `'fifo'` the oldest write whatever its use. @default 'lru'
   */
  eviction?: MemoryEviction | undefined
  /**
   * `'frozen-copy'` stores a deep-frozen copy of every value written, so a caller can never change what
   * the cache holds and a hit hands the value out with no copy at all (values holding a `Map`, `Set`,
   * `Date` or typed array, which freezing cannot protect, are copied on each read instead).
   * `'reference'` stores what it is given (fastest writes; mutating a value then changes the cached one).
   * @default 'frozen-copy'
   */
  values?: MemoryValueMode | undefined
}

const DEFAULT_MAX_ITEMS = 10_000
const MEMORY_LAYER_OPTION_NAMES = optionNames<MemoryLayerOptions>({
  name: true,
  maxItems: true,
  maxBytes: true,
  maxEntryBytes: true,
  eviction: true,
  values: true,
})
// Bookkeeping an entry costs beyond its value (entry object, timestamps, store node), for the budget.
const ENTRY_OVERHEAD_BYTES = 96

/**
 * The in-process layer: `lru-cache` for `'lru'` and `'fifo'`, an O(1) LFU store for `'lfu'`. Expiry is
 * lazy and read from the stack's clock (no timers), so any TTL works, including those longer than the
 * 24.8 days a `setTimeout` can hold.
 */
export class MemoryLayer implements CacheLayer {
  readonly name: string
  readonly isLocal = true
  /** `'reference'` keeps any value; `'frozen-copy'` keeps what a structured clone keeps. */
  readonly storable: ValueSupport
  readonly #store: EntryStore
  readonly #copy: boolean
  readonly #maxEntryBytes: number | undefined
  readonly #measure: boolean
  /** Only a byte budget keeps a running byte total (lru-cache's calculatedSize needs a maxSize). */
  readonly #tracksBytes: boolean
  /** Entries whose value freezing cannot protect; they are copied on read. */
  readonly #copyOnRead = new WeakSet<CacheEntry>()
  #anyCopyOnRead = false
  #clock: Clock = systemClock

  constructor(options: MemoryLayerOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new ValidationError('MemoryLayer options must be an object', 'options')
    }
    assertKnownOptions(options, MEMORY_LAYER_OPTION_NAMES, 'an option of new MemoryLayer()')
    const name = options.name ?? 'memory'
    if (typeof name !== 'string' || name === '') {
      throw new ValidationError(`"name" must be a non-empty string; got ${String(name)}`, 'name')
    }
    const maxBytes = optionalSize(options.maxBytes, 'maxBytes')
    if (maxBytes !== undefined && maxBytes < 1) {
      throw new ValidationError(`"maxBytes" must be at least 1 byte; got ${maxBytes}`, 'maxBytes')
    }
    const maxEntryBytes = optionalSize(options.maxEntryBytes, 'maxEntryBytes')
    if (maxEntryBytes !== undefined && (maxEntryBytes < 1 || maxEntryBytes > (maxBytes ?? Infinity))) {
      throw new ValidationError(
        `"maxEntryBytes" must be between 1 byte and "maxBytes"; got ${maxEntryBytes}`,
        'maxEntryBytes',
      )
    }
    const eviction = options.eviction ?? 'lru'
    if (eviction !== 'lru' && eviction !== 'lfu' && eviction !== 'fifo') {
      throw new ValidationError(
        `"eviction" must be 'lru', 'lfu' or 'fifo'; got ${String(eviction)}`,
        'eviction',
      )
    }
    const maxItems = options.maxItems ?? (maxBytes === undefined ? DEFAULT_MAX_ITEMS : undefined)
    if (maxItems !== undefined && (!Number.isInteger(maxItems) || maxItems < 1)) {
      throw new ValidationError(`"maxItems" must be a positive integer; got ${String(maxItems)}`, 'maxItems')
    }
    const values = options.values ?? 'frozen-copy'
    if (values !== 'frozen-copy' && values !== 'reference') {
      throw new ValidationError(
        `"values" must be 'frozen-copy' or 'reference'; got ${String(values)}`,
        'values',
      )
    }
    this.name = name
    this.#copy = values === 'frozen-copy'
    this.storable = this.#copy ? STRUCTURED_VALUES : ANY_VALUES
    this.#maxEntryBytes = maxEntryBytes ?? maxBytes
    this.#measure = this.#maxEntryBytes !== undefined
    this.#tracksBytes = maxBytes !== undefined
    const storeOptions = { maxItems, maxBytes, now: () => this.#clock.now() }
    this.#store = eviction === 'lfu' ? new LfuStore(storeOptions) : new LruStore(storeOptions, eviction)
  }

  attach(context: LayerContext): void {
    this.#clock = context.clock
  }

  get(key: string, now?: number): CacheEntry | undefined {
    const entry = this.#store.get(key, now)
    if (entry === undefined || !this.#anyCopyOnRead || !this.#copyOnRead.has(entry)) return entry
    return { ...entry, value: structuredClone(entry.value) }
  }

  async getMany(keys: readonly string[]): Promise<(CacheEntry | undefined)[]> {
    return keys.map((key) => this.get(key))
  }

  set(key: string, entry: CacheEntry, ttl: number | undefined): void {
    if (typeof ttl === 'number' && Number.isNaN(ttl)) {
      throw new ValidationError('"ttl" must be a number of milliseconds; got NaN', 'ttl')
    }
    const stored = this.#copy ? this.#protect(entry) : entry
    let size = 0
    if (this.#measure) {
      size = Math.ceil(entryBytes(stored))
      if (size > this.#maxEntryBytes!) {
        this.#store.delete(key)
        throw new LayerError(
          this.name,
          'set',
          new RangeError(`entry of ~${size} bytes exceeds maxEntryBytes (${this.#maxEntryBytes})`),
        )
      }
    }
    if (ttl !== undefined && ttl <= 0) {
      this.#store.delete(key)
      return
    }
    this.#store.set(key, stored, ttl === undefined || !Number.isFinite(ttl) ? undefined : ttl, size)
  }

  async setMany(writes: readonly LayerWrite[]): Promise<void> {
    for (const { key, entry, ttl } of writes) this.set(key, entry, ttl)
  }

  async delete(key: string): Promise<boolean> {
    return this.#store.delete(key)
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    let removed = 0
    for (const key of keys) if (this.#store.delete(key)) removed++
    return removed
  }

  async clear(prefix?: string): Promise<void> {
    if (!prefix) {
      this.#store.clear()
      return
    }
    for (const key of [...this.#store.keys()]) if (key.startsWith(prefix)) this.#store.delete(key)
  }

  async *keys(prefix = ''): AsyncIterable<string> {
    for (const key of [...this.#store.keys()]) {
      if (key.startsWith(prefix) && this.#store.has(key)) yield key
    }
  }

  async has(key: string): Promise<boolean> {
    return this.#store.has(key)
  }

  async ttl(key: string): Promise<number | undefined> {
    return this.#store.remainingTtl(key)
  }

  /** Number of entries held (expired ones not yet swept included). */
  get size(): number {
    return this.#store.size
  }

  /** Estimated bytes held, when a byte budget is set. */
  get bytes(): number {
    return this.#store.bytes
  }

  /** Entries held, and estimated bytes when a byte budget (`maxBytes`) is set. */
  usage(): LayerUsage {
    return { items: this.#store.size, bytes: this.#tracksBytes ? this.#store.bytes : undefined }
  }

  async ping(): Promise<void> {}

  async dispose(): Promise<void> {
    this.#store.clear()
  }

  /** A frozen private copy of `entry` (value and tags); flagged for copy-on-read when freezing is not enough. */
  #protect(entry: CacheEntry): CacheEntry {
    let value = entry.value
    let frozen = true
    if (value !== null && typeof value === 'object') {
      // A value just decoded from a shared layer is referenced by nobody else: freeze it where it is.
      frozen = isUnshared(entry) && freezeInPlace(value)
      if (!frozen) {
        try {
          ;({ value, frozen } = frozenCopy(value))
        } catch (error) {
          // Functions, class instances with private state, sockets...: nothing a cache could copy.
          throw new LayerError(this.name, 'set', error)
        }
      }
    }
    const stored: CacheEntry = { ...entry, value }
    if (entry.tags) stored.tags = Object.freeze([...entry.tags]) as string[]
    Object.freeze(stored)
    if (!frozen) {
      this.#copyOnRead.add(stored)
      this.#anyCopyOnRead = true
    }
    return stored
  }
}

function entryBytes(entry: CacheEntry): number {
  return estimateBytes(entry.value) + ENTRY_OVERHEAD_BYTES + (entry.tags ? entry.tags.length * 24 : 0)
}

import { systemNow } from './internal/recent-time.ts'
import type { ValueSupport } from './internal/value-check.ts'

/** What a layer can tell about its own size (see `CacheLayer.usage`). */
export interface LayerUsage {
  /** Entries held (expired ones not yet swept included). */
  items: number
  /** Estimated bytes held; `undefined` when the layer does not track them. */
  bytes: number | undefined
}

/** Anything that tells the time in epoch milliseconds. Inject a fake one in tests. */
export interface Clock {
  now(): number
}

/**
 * The default clock: `Date.now()`. A stack on it lets its L1 hits reuse a reading up to ~1 ms old
 * (docs/core.md, Clock); any other clock is read on every hit.
 */
export const systemClock: Clock = { now: systemNow }

/** An absolute time far enough away to mean "never" while staying JSON- and Date-safe. */
export const FOREVER = 8.64e15

/**
 * What every layer stores under a key: the value plus the freshness metadata that lets every layer and
 * every instance agree on an entry's state. Times are epoch milliseconds from the stack's clock.
 */
export interface CacheEntry<T = unknown> {
  /** The cached value; never `undefined`. */
  value: T
  /** When the value was produced (may carry a sub-millisecond fraction to order writes within one ms). */
  createdAt: number
  /** Fresh until this time; `FOREVER` for `setForever`. */
  freshUntil: number
  /** End of the stale-while-revalidate window (>= freshUntil). */
  swrUntil: number
  /** End of the grace (stale-if-error) window (>= freshUntil). */
  graceUntil: number
  /** Tags, as given by the user. */
  tags?: string[] | undefined
  /** The namespace path the entry was written through (`'a:b:'`), so namespaced tags can be scoped. */
  namespace?: string | undefined
  /** Set on a cached "not found" (negative caching): the value is a placeholder and reads answer `undefined`. */
  missing?: true | undefined
  /** Set by `slidingTtl`: each hit moves `freshUntil` to now + this many ms (windows move with it). */
  sliding?: number | undefined
}

/** An entry without its value: the times, tags and flags that decide whether it may be served. */
export type EntryHead = Omit<CacheEntry, 'value'>

/** What a stack hands each layer when the layer joins it. */
export interface LayerContext {
  readonly clock: Clock
  /** Reports a problem the layer recovered from (corrupted bytes, a failed background write). */
  reportError(error: unknown, operation: string, key?: string): void
  /**
   * True when the stack refuses an entry whatever its value (a tag invalidation this instance knows of
   * killed it); false says nothing. A layer that can read an entry's head before its value may then
   * skip decoding the value, but must still answer the entry, so the stack can count it and remove or
   * overwrite it (its `value` may be decoded on first access). Read it per decode: `undefined` while
   * nothing can be dead (no tag invalidation known).
   */
  readonly isDead?: ((head: EntryHead) => boolean) | undefined
}

/** One entry for `setMany`. `ttl` is the physical lifetime in ms; `undefined` keeps it forever. */
/** What `writeStates` did with one state: written, or held back by what the layer stores (`undefined`: unreadable). */
export type StateWriteResult = { written: true } | { written: false; stored: CacheEntry | undefined }

/** A bus message for `writeStates` to publish in the same command: its channel and wire payload. */
export interface Announcement {
  channel: string
  payload: string
}

export interface LayerWrite {
  key: string
  entry: CacheEntry
  ttl: number | undefined
}

/**
 * A storage tier. Layers store entries under full keys and know nothing of tags, namespaces or
 * freshness: the stack decides all of that from the entry's metadata. `get` may answer synchronously
 * (the memory layer does, so an L1 hit costs no extra promise).
 */
export interface CacheLayer {
  /** A short, unique name used in stats, events and per-layer TTL maps (`'memory'`, `'redis'`). */
  readonly name: string
  /** True for a layer private to this process (memory, disk); false for shared stores (Redis, memcached, Postgres). */
  readonly isLocal: boolean
  /**
   * The kinds of values beyond plain JSON data this layer gives back unchanged (dates, maps, byte
   * arrays...). The stack refuses, on every layer, a value some layer cannot hold. @default plain JSON only
   */
  readonly storable?: ValueSupport
  /** Called once by the stack that owns the layer. */
  attach?(context: LayerContext): void
  /**
   * The entry under `key`. The stack's L1 fast path passes `now`, the clock reading it tests freshness
   * with, so that a local layer need not read the clock again for its own expiry; others ignore it.
   */
  get(key: string, now?: number): CacheEntry | undefined | Promise<CacheEntry | undefined>
  getMany(keys: readonly string[]): Promise<(CacheEntry | undefined)[]>
  set(key: string, entry: CacheEntry, ttl: number | undefined): void | Promise<void>
  /**
   * `set`, but only while `fence` (a single-flight lease) is still held, checked and written in one
   * step on the server; false when the lease was lost and nothing was written. Optional: a layer
   * without it gets a `set` after the lease's own check.
   */
  setFenced?(key: string, entry: CacheEntry, ttl: number | undefined, fence: WriteFence): Promise<boolean>
  /**
   * The server-side key `key` is stored under, for a single-flight that keeps its lease beside it (same
   * Redis Cluster slot) so that `setFenced` can check the lease and write in one script. Optional.
   */
  storageKey?(key: string): string
  /**
   * Writes the stack's tag states (entries whose value is `{ hard, soft, sets? }`, times that only move
   * forward) in one round trip: each lands unless the layer holds a state with something later, whose
   * entry is answered instead (`undefined` when it cannot be compared); `force` writes regardless.
   * Set invalidations older than `keepAfter` are ignored. `announce`, when given, is published on its
   * channel by the same command (see `client`). Optional: without it, tag states are read, merged and
   * written (two round trips).
   */
  writeStates?(
    writes: readonly LayerWrite[],
    keepAfter: number | undefined,
    force?: boolean,
    announce?: Announcement,
  ): Promise<StateWriteResult[]>
  /**
   * The client a layer with `writeStates` talks to its server with: a bus publishing on the same server
   * (`CacheBus.carry`) hands it a tag invalidation's message to publish in the state write. Optional.
   */
  readonly client?: unknown
  setMany(writes: readonly LayerWrite[]): Promise<void>
  delete(key: string): Promise<boolean>
  deleteMany(keys: readonly string[]): Promise<number>
  /** Removes every key that starts with `prefix` (all of the layer's keys when omitted). */
  clear(prefix?: string): Promise<void>
  /** Iterates the keys that start with `prefix`, as the stack wrote them. */
  keys(prefix?: string): AsyncIterable<string>
  has(key: string): Promise<boolean>
  /** Remaining physical lifetime in ms, `Infinity` when the key never expires, `undefined` when absent. */
  ttl(key: string): Promise<number | undefined>
  /** Resolves when the layer answers; rejects otherwise. */
  ping(): Promise<void>
  /** Entries and bytes held, when the layer knows them without I/O (read by `getStats()`). Optional. */
  usage?(): LayerUsage
  /** Releases connections and timers. */
  dispose(): Promise<void>
}

// Marks entries freshly decoded from a shared layer: no caller holds their value yet, so a local layer
// may keep that value without copying it first. A hidden symbol property rather than a WeakSet:
// registering every decoded entry in a WeakSet measurably slowed Redis hits (ephemeron bookkeeping in
// the GC).
const UNSHARED: unique symbol = Symbol('cachestack.unshared')

/** Marks an entry whose value nobody else references (a layer just decoded it). Returns it. */
export function markUnshared<T extends CacheEntry>(entry: T): T {
  // Not enumerable: copies made by spreading do not inherit it, and equality checks do not see it.
  return Object.defineProperty(entry, UNSHARED, { value: true })
}

/** Whether `markUnshared` was called on this very entry object. */
export function isUnshared(entry: CacheEntry): boolean {
  return (entry as CacheEntry & { [UNSHARED]?: true })[UNSHARED] === true
}

/** A single-flight lease a write must still hold when it lands (see `RedisSingleFlight`). */
export interface WriteFence {
  /** The client holding the lease. */
  readonly owner: unknown
  /** The key the lease lives under, and the token this holder wrote there. */
  readonly leaseKey: string
  readonly token: string
  /**
   * Asks the lease's own client whether the lease is still this holder's. A layer on another client
   * whose one-step check did not find the token calls it: true means the lease lives on another Redis
   * (the layer then writes after this check), false that it was lost. Without it, a layer applies the
   * fence only on the `owner` client itself.
   */
  held?(): Promise<boolean>
}

import { BulkMethods } from './cache-view-bulk.ts'
import { ValidationError } from './errors.ts'
import { keepForHits, recentSystemNow } from './internal/recent-time.ts'
import { type CacheEntry, type CacheLayer, type Clock, FOREVER } from './layer.ts'
import { OperationCache } from './operation/operation-cache.ts'
import type { EntryInspection, LayerHealth, MgetEntry, MsetEntry } from './stack/api-types.ts'
import { assertGetOrSetForm, assertOptionsObject } from './stack/call-options.ts'
import { type EngineOptions, StackEngine } from './stack/engine.ts'
import type { CacheEventListener, CacheEventName } from './stack/events.ts'
import type { Factory, Storable } from './stack/factory.ts'
import { fastPathAllowed } from './stack/fast-path.ts'
import {
  type GetOrSetObject,
  type KeyArg,
  keysArg,
  objectKey,
  rejecting,
  type SetObject,
  tagsArg,
} from './stack/forms.ts'
import { assertKey } from './stack/keys.ts'
import { type CacheStats, sampleHit } from './stack/metrics.ts'
import { type EntryOptions, READ_OPTION_NAMES, type ReadOptions } from './stack/options.ts'
import { healthCheck, stackStats } from './stack/stack-status.ts'
import { operationChannel } from './stack/tracing.ts'
import { StackView, startRoot, VIEW_READY } from './stack/view.ts'
import * as invalidation from './stack/view-invalidation.ts'
import * as reads from './stack/view-reads.ts'
import * as writes from './stack/view-writes.ts'

export type {
  CacheMetrics,
  EntryInspection,
  LayerHealth,
  MgetEntry,
  MsetEntry,
} from './stack/api-types.ts'
export { OPERATION_CHANNEL, type OperationContext, type OperationName } from './stack/tracing.ts'

/** Options of `new CacheStack(layers, options)`. */
export type CacheStackOptions = EngineOptions

type TagsArg = string | readonly string[] | { tags: readonly string[] }
type KeysArg = readonly string[] | { keys: readonly string[] }

/**
 * The API of a stack and of each of its namespaces: thin methods over the view's private state, each
 * delegating to the module that owns the behaviour (`stack/view-reads.ts`, `view-writes.ts`,
 * `view-invalidation.ts`). Only `get` keeps its L1 fast path inline: it is the hot path.
 */
class CacheView extends BulkMethods {
  readonly #view: StackView
  readonly #engine: StackEngine
  readonly #namespace: string
  readonly #ready: Promise<void>
  #l1Reads = 0

  constructor(view: StackView, ready: Promise<void>) {
    super(view)
    this.#view = view
    this.#engine = view.engine
    this.#namespace = view.namespace
    this.#ready = ready
  }

  /** The clock every ttl and window of this stack is measured with (the `clock` option, or `Date.now`). */
  get clock(): Clock {
    return this.#engine.clock
  }

  /** The stack's `name` option (shared by its namespaces). @default 'default' */
  get name(): string {
    return this.#engine.name
  }

  /** The namespace path of this view: `''` for the root, `'users:'`, `'users:admins:'`... */
  get prefix(): string {
    return this.#namespace
  }

  /**
   * Reads `key` through every layer. With a `fetcher`, a full miss runs it once (concurrent callers share
   * that one run) and stores its result. Also takes `{ key, defaultValue, factory, ...options }`.
   * With a fetcher the answer is what it produced (`T`, inferred from it); without one, `T | undefined`.
   */
  get<T, G = T>(key: string, fetcher: Factory<T, G>, options?: ReadOptions): Promise<T>
  get<T, G = T>(key: GetOrSetObject<T, G>): Promise<T>
  get<T = unknown>(
    key: string | KeyArg<T>,
    fetcher?: undefined,
    options?: ReadOptions,
  ): Promise<T | undefined>
  get<T = unknown>(
    key: string | KeyArg<T>,
    fetcher?: Factory<T>,
    options?: ReadOptions,
  ): Promise<T | undefined> {
    const engine = this.#engine
    const l1 = engine.l1
    if (
      l1 !== undefined &&
      typeof key === 'string' &&
      key.length > 0 &&
      engine.fastPath &&
      !engine.disconnected &&
      (options === undefined || fastPathAllowed(options))
    ) {
      const full = engine.generationPrefix === '' && this.#namespace === '' ? key : this.#view.full(key)
      const sampled = sampleHit(++this.#l1Reads)
      const started = sampled ? performance.now() : 0
      // One clock reading serves the layer's expiry and the freshness test (a reading costs ~100 ns
      // on some virtual machines); on the system clock, a recent one (internal/recent-time.ts).
      const now = engine.systemTime ? recentSystemNow() : engine.clock.now()
      const entry = l1.get(full, now) as CacheEntry | undefined
      // A promise (an asynchronous local layer) has no freshUntil, so it never passes the hit test:
      // it is recognised after it, off the hit path (two instanceof checks less per hit).
      if (entry !== undefined && entry.missing === undefined && entry.sliding === undefined) {
        if (now < entry.freshUntil && (entry.tags === undefined || engine.tags.check(entry) > now)) {
          if (engine.systemTime) keepForHits(now)
          const metrics = engine.metrics
          metrics.hits++
          const counters = metrics.layers[0]!
          counters.hits++
          if (sampled) counters.latencies.add(performance.now() - started)
          engine.emitter.emitHit(full, l1.name, false)
          if (operationChannel.hasSubscribers)
            return reads.tracedHit(this.#view, key, entry.value as T, l1.name, options)
          return Promise.resolve(entry.value as T)
        }
        if (entry instanceof Promise) {
          // An asynchronous local layer (disk): its answer is no use here, and reading it here and
          // again in readKey cost a second file read on every hit. Its failure is readKey's to report.
          ;(entry as Promise<unknown>).catch(() => {})
          engine.l1 = undefined
        }
      }
    }
    return reads.readKey(this.#view, key, fetcher as Factory<unknown> | undefined, options) as Promise<
      T | undefined
    >
  }

  /** `get` with a factory; also takes `{ key, factory, ...options }`. `T` is inferred from the factory. */
  getOrSet<T, G = T>(key: string, factory: Factory<T, G>, options?: ReadOptions): Promise<T>
  getOrSet<T, G = T>(key: GetOrSetObject<T, G>): Promise<T>
  getOrSet<T>(key: string | GetOrSetObject<T>, factory?: Factory<T>, options?: ReadOptions): Promise<T> {
    return rejecting(() => {
      assertGetOrSetForm(key, factory)
      return this.get(key as string, factory as Factory<T>, options)
    })
  }

  /** `getOrSet` whose result never expires (only eviction or invalidation removes it). */
  getOrSetForever<T, G = T>(key: string, factory: Factory<T, G>, options?: ReadOptions): Promise<T>
  getOrSetForever<T, G = T>(key: GetOrSetObject<T, G>): Promise<T>
  getOrSetForever<T>(
    key: string | GetOrSetObject<T>,
    factory?: Factory<T>,
    options?: ReadOptions,
  ): Promise<T> {
    if (typeof key === 'object' && key !== null) return this.getOrSet({ ...key, ttl: FOREVER })
    return this.getOrSet(key, factory as Factory<T>, { ...options, ttl: FOREVER })
  }

  /** Like `get` but throws `CacheMissError` instead of answering `undefined`. */
  getOrThrow<T = unknown, G = T>(
    key: string | KeyArg<T, G>,
    fetcher?: Factory<T, G>,
    options?: ReadOptions,
  ): Promise<T> {
    return reads.getOrThrow(this.#view, key, fetcher as Factory<unknown> | undefined, options) as Promise<T>
  }

  /** Reads many keys, each with an optional fetcher and options; results in order, duplicates allowed. */
  mget<T = unknown, G = T>(entries: readonly (MgetEntry<T, G> | string)[]): Promise<(T | undefined)[]> {
    return reads.mget(this.#view, entries)
  }

  /** Reads many keys at once (one round trip per layer); results in order. */
  getMany<T = unknown>(keys: KeysArg): Promise<(T | undefined)[]> {
    return rejecting(() => this.mget<T>(keysArg(keys).map((key) => ({ key }))))
  }

  /** True when a fresh entry exists (stale and invalidated entries do not count). */
  has(key: string | { key: string }): Promise<boolean> {
    return reads.has(this.#view, objectKey(key))
  }

  /** The opposite of `has`. */
  async missing(key: string | { key: string }): Promise<boolean> {
    return !(await this.has(key))
  }

  /** Remaining fresh time in ms (`Infinity` for forever), or `undefined` when there is no fresh entry. */
  ttl(key: string | { key: string }): Promise<number | undefined> {
    return reads.ttl(this.#view, objectKey(key))
  }

  /** Everything known about one entry, or `undefined`. */
  inspect(key: string | { key: string }): Promise<EntryInspection | undefined> {
    return reads.inspect(this.#view, objectKey(key))
  }

  /** Writes a value to every layer (never `undefined`). Also takes `{ key, value, ttl, tags }`. */
  set<T>(key: string, value: Storable<T>, options?: EntryOptions): Promise<void>
  set<T>(entry: SetObject<T>): Promise<void>
  set<T>(key: string | SetObject<T>, value?: Storable<T>, options?: EntryOptions): Promise<void> {
    return writes.set(this.#view, key, value, options)
  }

  /** Writes a value that never expires (only eviction or invalidation removes it). */
  setForever<T>(key: string, value: Storable<T>, options?: EntryOptions): Promise<void>
  setForever<T>(entry: SetObject<T>): Promise<void>
  setForever<T>(key: string | SetObject<T>, value?: Storable<T>, options?: EntryOptions): Promise<void> {
    if (typeof key === 'object' && key !== null) return this.set({ ...key, ttl: FOREVER })
    return this.set(key, value as Storable<T>, { ...options, ttl: FOREVER })
  }

  /** Writes many values. */
  mset<T>(entries: readonly MsetEntry<T>[]): Promise<void> {
    return writes.mset(this.#view, entries)
  }

  /** Reads and deletes in one call. */
  async pull<T = unknown>(key: string | { key: string }): Promise<T | undefined> {
    const value = await this.get<T>(objectKey(key))
    await this.delete(key)
    return value
  }

  /** Removes a key from every layer and every instance's L1. Resolves true when some layer held it. */
  delete(key: string | { key: string }): Promise<boolean> {
    return writes.deleteKey(this.#view, objectKey(key))
  }

  /** Removes many keys (one round trip per layer); one `delete` event per key. */
  deleteMany(keys: KeysArg): Promise<void> {
    return rejecting(() => writes.deleteMany(this.#view, keysArg(keys)))
  }

  /** Alias of `deleteMany`. */
  mdelete(keys: KeysArg): Promise<void> {
    return this.deleteMany(keys)
  }

  /** Soft delete: the entry turns stale (still served within its grace window); fresh reads miss. */
  expire(key: string | { key: string }): Promise<void> {
    return writes.expire(this.#view, objectKey(key))
  }

  /** Removes every key of this stack (or of this namespace) from every layer and every instance. */
  clear(): Promise<void> {
    return invalidation.clear(this.#view)
  }

  /** Hard invalidation: every entry carrying the tag misses afterwards, grace or not. */
  invalidateByTag(tag: string): Promise<void> {
    return this.invalidateByTags([tag])
  }

  /** Hard invalidation of entries carrying any (default) or all of the tags. */
  invalidateByTags(tags: TagsArg, mode: 'any' | 'all' = 'any'): Promise<void> {
    return rejecting(() => invalidation.invalidateByTags(this.#view, tagsArg(tags), mode, 'hard'))
  }

  /** AdonisJS/Bentocache form of `invalidateByTags`. */
  deleteByTag(tags: TagsArg): Promise<void> {
    return this.invalidateByTags(tags)
  }

  /** Soft invalidation: entries carrying the tag turn stale (served within grace). */
  expireByTag(tag: string): Promise<void> {
    return this.expireByTags([tag])
  }

  /** Soft invalidation of entries carrying any (default) or all of the tags. */
  expireByTags(tags: TagsArg, mode: 'any' | 'all' = 'any'): Promise<void> {
    return rejecting(() => invalidation.invalidateByTags(this.#view, tagsArg(tags), mode, 'soft'))
  }

  /** Removes every key of this namespace starting with `prefix`, across layers and instances (SCAN on Redis). */
  invalidateByPrefix(prefix: string): Promise<void> {
    return invalidation.invalidateByPrefix(this.#view, prefix)
  }

  /** Removes every key of this namespace matching a glob (`*`, `?`, `[abc]`), across layers and instances. */
  invalidateByPattern(pattern: string): Promise<void> {
    return invalidation.invalidateByPattern(this.#view, pattern)
  }

  /**
   * Returns a cached version of `fn`: each call's key is `prefix` plus its canonical arguments
   * (`{a,b}` = `{b,a}`, `1` ≠ `'1'`; long keys hashed). Built on `OperationCache`.
   */
  wrap<A extends unknown[], R>(
    prefix: string,
    fn: (...args: A) => R | Promise<R>,
    options?: ReadOptions,
  ): (...args: A) => Promise<R> {
    assertKey(prefix, 'prefix')
    if (typeof fn !== 'function') throw new ValidationError('"fn" must be a function', 'fn')
    if (options !== undefined) assertOptionsObject(options, READ_OPTION_NAMES, 'an option of wrap()')
    const operation = new OperationCache<A, undefined, R>({ ...options, cache: this, name: prefix })
    return (...args: A) => operation.value(args, undefined, () => fn(...args))
  }

  /** A scoped view with the full API; nestable (`a:b:key`). Views of one prefix share stampede locks. */
  namespace(prefix: string): CacheStack {
    assertKey(prefix, 'prefix')
    return new CacheView(this.#view.child(prefix), VIEW_READY)
  }

  /** Instant bulk invalidation: every key written before now becomes unreachable, on every instance. */
  bumpGeneration(): Promise<number> {
    return invalidation.bumpGeneration(this.#view)
  }

  /** The current key generation, or `undefined` when generations are off. */
  getGeneration(): number | undefined {
    return this.#engine.generation
  }

  /** Counters per layer, latency percentiles, degraded layers, refreshes in flight. */
  getStats(): CacheStats {
    return stackStats(this.#engine)
  }

  /** Same figures as `getStats()`. */
  getMetrics(): CacheStats {
    return this.getStats()
  }

  /** Hits / (hits + misses), 0 before any read. */
  getHitRate(): number {
    return this.getStats().hitRate
  }

  /** Zeroes every counter. */
  resetMetrics(): void {
    this.#engine.metrics.reset()
  }

  /** Pings every layer; never throws. */
  healthCheck(): Promise<LayerHealth[]> {
    return healthCheck(this.#engine.layers)
  }

  /**
   * Resolves when every layer answers and the bus (if any) is subscribed. Bounded: while Redis is down
   * or stalled it rejects within the layers' `commandTimeout` (default 1 s) with a `LayerError` (or a
   * `BusError`), each with a stable `code`.
   */
  async ready(): Promise<void> {
    await Promise.all([
      this.#engine.sync.ready(this.#ready),
      ...this.#engine.layers.map((layer) => layer.ping()),
    ])
  }

  /** Listens to a typed event (one emitter per root stack; namespaces share it). */
  on<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): this {
    this.#engine.emitter.on(event, listener)
    return this
  }

  /** Stops listening. */
  off<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): this {
    this.#engine.emitter.off(event, listener)
    return this
  }

  /** Flushes pending work, stops timers and subscriptions, releases layers. Later calls reject with `DisconnectedError`. */
  async disconnect(): Promise<void> {
    await this.#engine.disconnect()
  }
}

/**
 * A cache made of layers, fastest first (default: one `MemoryLayer`). Reads walk the layers and
 * back-fill; writes go to every layer; tags, namespaces, stampede protection and freshness windows
 * work the same on every layer and every instance.
 */
export class CacheStack extends CacheView {
  constructor(layers?: readonly CacheLayer[], options: CacheStackOptions = {}) {
    const engine = new StackEngine(layers, options)
    const view = new StackView(engine, '', engine)
    super(view, startRoot(engine))
    view.root = this
  }

  // biome-ignore-start lint/complexity/noThisInStatic: namespace views (built without this constructor) are CacheStacks to callers; `this` is the class asked about.
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== CacheStack) return Function.prototype[Symbol.hasInstance].call(this, value)
    return value instanceof CacheView
  }
  // biome-ignore-end lint/complexity/noThisInStatic: see above
}

import { CacheMissError, ValidationError } from './errors.ts'
import { assertKnownOptions, joinNames, optionNames } from './internal/known-options.ts'
import { type CacheEntry, type CacheLayer, type Clock, FOREVER } from './layer.ts'
import { OperationCache } from './operation/operation-cache.ts'
import { type EngineOptions, StackEngine } from './stack/engine.ts'
import { remainingLifetime } from './stack/entry-times.ts'
import type { CacheEventListener, CacheEventName } from './stack/events.ts'
import type { Factory, Storable } from './stack/factory.ts'
import {
  type GetOrSetObject,
  type KeyArg,
  keysArg,
  objectKey,
  type SetObject,
  tagsArg,
} from './stack/forms.ts'
import {
  clearPrefix,
  deleteKeys,
  deleteMatching,
  expireKeys,
  invalidateTagSet,
  invalidateTags,
  localSync,
} from './stack/invalidation.ts'
import { assertKey, assertValue, globToRegExp } from './stack/keys.ts'
import { type CacheStats, SAMPLE_EVERY } from './stack/metrics.ts'
import {
  ENTRY_OPTION_NAMES,
  type EntryOptions,
  READ_OPTION_NAMES,
  type ReadOptions,
  resolveEntryOptions,
} from './stack/options.ts'
import { countHit, READ_TRACE } from './stack/read-report.ts'
import { entryValue, type ReadTrace, readThrough } from './stack/reader.ts'
import { scopedTag } from './stack/tags.ts'
import { type OperationContext, operationChannel, traced } from './stack/tracing.ts'

export { OPERATION_CHANNEL, type OperationContext, type OperationName } from './stack/tracing.ts'

/** `inspect()`'s answer. */
export interface EntryInspection {
  key: string
  foundInLayers: string[]
  freshTtl: number
  staleTtl: number
  isStale: boolean
  tags: string[]
  createdAt: number
}

/** One `mget` item. */
export interface MgetEntry<T = unknown, G = T> extends ReadOptions {
  key: string
  fetch?: Factory<T, G>
}

/** One `mset` item. */
export interface MsetEntry<T = unknown> extends EntryOptions {
  key: string
  value: Storable<T>
}

/** Per-layer health from `healthCheck()`. */
export interface LayerHealth {
  layer: string
  healthy: boolean
  latency: number
  error?: string
}

/** Counters and figures from `getMetrics()`. */
export type CacheMetrics = CacheStats

/** Options of `new CacheStack(layers, options)`. */
export type CacheStackOptions = EngineOptions

/** A duration that means "never expires". */
const FOREVER_TTL = FOREVER

const READ_WHAT = 'an option of get()/getOrSet()/wrap()'
const SET_WHAT = 'an option of set()'
const OBJECT_READ_NAMES = joinNames(
  READ_OPTION_NAMES,
  optionNames<Pick<GetOrSetObject<unknown>, 'key' | 'factory'>>({ key: true, factory: true }),
)
const OBJECT_SET_NAMES = joinNames(
  ENTRY_OPTION_NAMES,
  optionNames<Pick<SetObject<unknown>, 'key' | 'value'>>({ key: true, value: true }),
)
const MGET_ITEM_NAMES = joinNames(
  READ_OPTION_NAMES,
  optionNames<Pick<MgetEntry, 'key' | 'fetch'>>({ key: true, fetch: true }),
)
const MSET_ITEM_NAMES = OBJECT_SET_NAMES
/** Read options a fresh L1 hit can ignore; any other key (unknown ones included) takes the full path. */
const FAST_PATH_NAMES: ReadonlySet<string> = new Set(
  [...READ_OPTION_NAMES].filter((name) => name !== 'refreshAhead' && name !== 'adaptiveTtl'),
)

function fastPathAllowed(options: ReadOptions): boolean {
  // Options that must see every hit (sliding, adaptive) or may refresh on one take the full path, and
  // so does an unknown key: the full path refuses it. One loop over the few keys a call passes.
  for (const name in options) if (!FAST_PATH_NAMES.has(name)) return false
  return options.forceFresh !== true && options.slidingTtl !== true
}

/**
 * A cache made of layers, fastest first (default: one `MemoryLayer`). Reads walk the layers and
 * back-fill; writes go to every layer; tags, namespaces, stampede protection and freshness windows
 * work the same on every layer and every instance.
 */
export class CacheStack {
  static #pendingView: { engine: StackEngine; namespace: string; root: CacheStack } | undefined
  readonly #engine: StackEngine
  readonly #namespace: string
  /** The root stack: tracing messages name it, so a subscriber can tell stacks apart. */
  readonly #root: CacheStack
  readonly #ready: Promise<void>
  #l1Reads = 0

  constructor(layers?: readonly CacheLayer[], options: CacheStackOptions = {}) {
    const view = CacheStack.#pendingView
    if (view) {
      CacheStack.#pendingView = undefined
      this.#engine = view.engine
      this.#namespace = view.namespace
      this.#root = view.root
      this.#ready = Promise.resolve()
      return
    }
    const engine = new StackEngine(layers, options)
    this.#engine = engine
    this.#namespace = ''
    this.#root = this
    this.#ready = Promise.all([engine.sync.start(localSync(engine)), engine.loadGeneration()]).then(
      () => undefined,
    )
    this.#ready.catch((error) => engine.emitter.emit('error', { error, operation: 'ready' }))
  }

  /** The clock every ttl and window of this stack is measured with (the `clock` option, or `Date.now`). */
  get clock(): Clock {
    return this.#engine.clock
  }

  /** The namespace path of this view: `''` for the root, `'users:'`, `'users:admins:'`... */
  get prefix(): string {
    return this.#namespace
  }

  #full(key: string): string {
    const generation = this.#engine.generationPrefix
    return generation === '' && this.#namespace === '' ? key : generation + this.#namespace + key
  }

  /** The key as tracing and events show it: namespace path + key, no generation prefix. */
  #visible(key: unknown): string | undefined {
    return typeof key === 'string' ? this.#namespace + key : undefined
  }

  // The message is built only when somebody subscribes; `run` gets it to fill in what it learns.
  #trace<R>(
    message: () => Omit<OperationContext, 'namespace' | 'cache'>,
    run: (context?: OperationContext) => Promise<R>,
  ): Promise<R> {
    if (!operationChannel.hasSubscribers) return run()
    const context = { ...message(), namespace: this.#namespace, cache: this.#root } as OperationContext
    return traced(context, () => run(context))
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
      (options === undefined || fastPathAllowed(options)) &&
      !operationChannel.hasSubscribers
    ) {
      const full = engine.generationPrefix === '' && this.#namespace === '' ? key : this.#full(key)
      const sampled = (++this.#l1Reads & (SAMPLE_EVERY - 1)) === 0
      const started = sampled ? performance.now() : 0
      const entry = l1.get(full) as CacheEntry | undefined
      if (
        entry !== undefined &&
        entry.missing === undefined &&
        entry.sliding === undefined &&
        !(entry instanceof Promise)
      ) {
        const now = engine.clock.now()
        if (now < entry.freshUntil && (entry.tags === undefined || engine.tags.check(entry) > now)) {
          const metrics = engine.metrics
          metrics.hits++
          const counters = metrics.layers[0]!
          counters.hits++
          if (sampled) counters.latencies.add(performance.now() - started)
          if (engine.emitter.has('hit'))
            engine.emitter.emit('hit', { key: full, layer: l1.name, stale: false })
          return Promise.resolve(entry.value as T)
        }
      }
    }
    return this.#read(key, fetcher as Factory<unknown> | undefined, options) as Promise<T | undefined>
  }

  // Not async: a string key goes straight to readThrough's promise, one promise hop fewer per read
  // (measurable on a Redis hit, where the whole path is awaited).
  #read(
    key: unknown,
    fetcher: Factory<unknown> | undefined,
    options: ReadOptions | undefined,
  ): Promise<unknown> {
    if (typeof key === 'object' && key !== null && !Array.isArray(key))
      return this.#readObject(key, fetcher, options)
    try {
      assertKey(key)
      if (fetcher !== undefined && typeof fetcher !== 'function') {
        throw new ValidationError('"fetcher" must be a function', 'fetcher')
      }
      if (options !== undefined) assertOptionsObject(options, READ_OPTION_NAMES, READ_WHAT)
    } catch (error) {
      return Promise.reject(error)
    }
    const full = this.#full(key)
    const asked = (options as { [READ_TRACE]?: ReadTrace } | undefined)?.[READ_TRACE]
    const request = {
      key: full,
      userKey: key,
      namespace: this.#namespace,
      factory: fetcher,
      options,
      trace: asked,
    }
    if (!operationChannel.hasSubscribers) return readThrough(this.#engine, request)
    const context: OperationContext = {
      operation: 'get',
      key: this.#namespace + key,
      namespace: this.#namespace,
      cache: this.#root,
      tags: options?.tags,
    }
    const run = traced(context, () => readThrough(this.#engine, { ...request, trace: context }))
    return asked === undefined ? run : run.finally(() => Object.assign(asked, pickTrace(context)))
  }

  async #readObject(key: object, fetcher: Factory<unknown> | undefined, options: ReadOptions | undefined) {
    assertKnownOptions(key, OBJECT_READ_NAMES, READ_WHAT)
    const { key: inner, factory, defaultValue, ...rest } = key as KeyArg<unknown>
    const value = await this.#read(inner, factory ?? fetcher, { ...options, ...rest })
    return value === undefined ? defaultValue : value
  }

  /** `get` with a factory; also takes `{ key, factory, ...options }`. `T` is inferred from the factory. */
  getOrSet<T, G = T>(key: string, factory: Factory<T, G>, options?: ReadOptions): Promise<T>
  getOrSet<T, G = T>(key: GetOrSetObject<T, G>): Promise<T>
  getOrSet<T>(key: string | GetOrSetObject<T>, factory?: Factory<T>, options?: ReadOptions): Promise<T> {
    const isObject = typeof key === 'object' && key !== null
    if (isObject) {
      try {
        assertKnownOptions(key, OBJECT_READ_NAMES, READ_WHAT)
      } catch (error) {
        return Promise.reject(error)
      }
    }
    const fn = isObject ? key.factory : factory
    if (typeof fn !== 'function')
      return Promise.reject(new ValidationError('"factory" must be a function', 'factory'))
    return this.get(key as string, factory as Factory<T>, options)
  }

  /** `getOrSet` whose result never expires (only eviction or invalidation removes it). */
  getOrSetForever<T, G = T>(key: string, factory: Factory<T, G>, options?: ReadOptions): Promise<T>
  getOrSetForever<T, G = T>(key: GetOrSetObject<T, G>): Promise<T>
  getOrSetForever<T>(
    key: string | GetOrSetObject<T>,
    factory?: Factory<T>,
    options?: ReadOptions,
  ): Promise<T> {
    if (typeof key === 'object' && key !== null) return this.getOrSet({ ...key, ttl: FOREVER_TTL })
    return this.getOrSet(key, factory as Factory<T>, { ...options, ttl: FOREVER_TTL })
  }

  /** Like `get` but throws `CacheMissError` instead of answering `undefined`. */
  async getOrThrow<T = unknown, G = T>(
    key: string | KeyArg<T, G>,
    fetcher?: Factory<T, G>,
    options?: ReadOptions,
  ): Promise<T> {
    const value = (await this.#read(key, fetcher as Factory<unknown> | undefined, options)) as T | undefined
    if (value === undefined)
      throw new CacheMissError(this.#namespace + objectKey(key as string | { key: string }))
    return value
  }

  /** Reads many keys, each with an optional fetcher and options; results in order, duplicates allowed. */
  mget<T = unknown, G = T>(entries: readonly (MgetEntry<T, G> | string)[]): Promise<(T | undefined)[]> {
    return this.#trace(
      () => ({
        operation: 'mget',
        keys: Array.isArray(entries)
          ? entries.map((item) => this.#visible(typeof item === 'string' ? item : item?.key) ?? '')
          : undefined,
      }),
      (context) => this.#mget(entries, context),
    )
  }

  async #mget<T, G>(
    entries: readonly (MgetEntry<T, G> | string)[],
    context: OperationContext | undefined,
  ): Promise<(T | undefined)[]> {
    if (!Array.isArray(entries)) throw new ValidationError('"entries" must be an array', 'entries')
    const items = entries.map((item) => (typeof item === 'string' ? { key: item } : item))
    for (const item of items) {
      assertKey(item?.key)
      assertKnownOptions(item, MGET_ITEM_NAMES, 'an option of an mget() item')
    }
    const values = await this.#engine.lookupMany(items.map((item) => this.#full(item.key)))
    let hits = 0
    const results = items.map((item, i) => {
      const found = values[i]
      const { key, fetch, ...options } = item
      if (found && found.freshUntil > this.#engine.clock.now()) {
        hits++
        countHit(this.#engine, this.#full(key), undefined, found, false)
        return entryValue(found.entry) as T | undefined
      }
      return this.#read(key, fetch as Factory<unknown> | undefined, options) as Promise<T | undefined>
    })
    if (context) context.hits = hits
    return Promise.all(results)
  }

  /** Reads many keys at once (one round trip per layer); results in order. */
  getMany<T = unknown>(keys: readonly string[] | { keys: readonly string[] }): Promise<(T | undefined)[]> {
    return this.mget<T>(keysArg(keys).map((key) => ({ key })))
  }

  /** True when a fresh entry exists (stale and invalidated entries do not count). */
  has(key: string | { key: string }): Promise<boolean> {
    const k = objectKey(key)
    return this.#trace(
      () => ({ operation: 'has', key: this.#visible(k) }),
      async (context) => {
        assertKey(k)
        const found = await this.#engine.lookup(this.#full(k))
        const fresh =
          found !== undefined && found.freshUntil > this.#engine.clock.now() && !found.entry.missing
        if (context) this.#report(context, fresh ? found : undefined)
        return fresh
      },
    )
  }

  #report(context: OperationContext, found: { layer: number } | undefined): void {
    context.hit = found !== undefined
    if (found) context.layer = this.#engine.layers[found.layer]!.name
  }

  /** The opposite of `has`. */
  async missing(key: string | { key: string }): Promise<boolean> {
    return !(await this.has(key))
  }

  /** Remaining fresh time in ms (`Infinity` for forever), or `undefined` when there is no fresh entry. */
  ttl(key: string | { key: string }): Promise<number | undefined> {
    const k = objectKey(key)
    return this.#trace(
      () => ({ operation: 'ttl', key: this.#visible(k) }),
      async (context) => {
        assertKey(k)
        const found = await this.#engine.lookup(this.#full(k))
        if (context) this.#report(context, found)
        if (!found) return undefined
        if (found.freshUntil >= FOREVER) return Number.POSITIVE_INFINITY
        const remaining = found.freshUntil - this.#engine.clock.now()
        return remaining > 0 ? Math.ceil(remaining) : undefined
      },
    )
  }

  /** Everything known about one entry, or `undefined`. */
  inspect(key: string | { key: string }): Promise<EntryInspection | undefined> {
    const k = objectKey(key)
    return this.#trace(
      () => ({ operation: 'inspect', key: this.#visible(k) }),
      async (context) => {
        const inspection = await this.#inspect(k)
        if (context) {
          context.hit = inspection !== undefined
          context.layer = inspection?.foundInLayers[0]
        }
        return inspection
      },
    )
  }

  async #inspect(k: string): Promise<EntryInspection | undefined> {
    assertKey(k)
    const full = this.#full(k)
    const engine = this.#engine
    const now = engine.clock.now()
    const foundInLayers: string[] = []
    let best: { entry: CacheEntry; freshUntil: number } | undefined
    for (let i = 0; i < engine.layers.length; i++) {
      const found = await engine.peek(i, full)
      if (!found) continue
      foundInLayers.push(engine.layers[i]!.name)
      best ??= found
    }
    if (!best) return undefined
    const { entry, freshUntil } = best
    const end = remainingLifetime(entry, now)
    return {
      key: this.#namespace + k,
      foundInLayers,
      freshTtl: freshUntil >= FOREVER ? Number.POSITIVE_INFINITY : Math.max(0, Math.ceil(freshUntil - now)),
      staleTtl: end === undefined ? Number.POSITIVE_INFINITY : Math.max(0, end),
      isStale: now >= freshUntil,
      tags: [...(entry.tags ?? [])],
      createdAt: Math.floor(entry.createdAt),
    }
  }

  /** Writes a value to every layer (never `undefined`). Also takes `{ key, value, ttl, tags }`. */
  set<T>(key: string, value: Storable<T>, options?: EntryOptions): Promise<void>
  set<T>(entry: SetObject<T>): Promise<void>
  set<T>(key: string | SetObject<T>, value?: Storable<T>, options?: EntryOptions): Promise<void> {
    const object = typeof key === 'object' && key !== null
    return this.#trace(
      () => ({
        operation: 'set',
        key: this.#visible(object ? key.key : key),
        tags: (object ? key.tags : undefined) ?? options?.tags,
      }),
      async () => {
        if (object) {
          assertKnownOptions(key, OBJECT_SET_NAMES, SET_WHAT)
          const { key: k, value: v, ...rest } = key
          return this.#set(k, v, { ...options, ...rest })
        }
        return this.#set(key, value, options)
      },
    )
  }

  async #set(key: unknown, value: unknown, options: EntryOptions | undefined): Promise<void> {
    const engine = this.#engine
    engine.assertOpen()
    assertKey(key)
    assertValue(value, key)
    if (options !== undefined) assertOptionsObject(options, ENTRY_OPTION_NAMES, SET_WHAT)
    const resolved = options === undefined ? engine.defaults : resolveEntryOptions(options, engine.defaults)
    await engine.write(this.#full(key), this.#namespace, value, resolved)
  }

  /** Writes a value that never expires (only eviction or invalidation removes it). */
  setForever<T>(key: string, value: Storable<T>, options?: EntryOptions): Promise<void>
  setForever<T>(entry: SetObject<T>): Promise<void>
  setForever<T>(key: string | SetObject<T>, value?: Storable<T>, options?: EntryOptions): Promise<void> {
    if (typeof key === 'object' && key !== null) return this.set({ ...key, ttl: FOREVER_TTL })
    return this.set(key, value as Storable<T>, { ...options, ttl: FOREVER_TTL })
  }

  /** Writes many values. */
  mset<T>(entries: readonly MsetEntry<T>[]): Promise<void> {
    return this.#trace(
      () => ({
        operation: 'mset',
        keys: Array.isArray(entries) ? entries.map((item) => this.#visible(item?.key) ?? '') : undefined,
      }),
      async () => {
        if (!Array.isArray(entries)) throw new ValidationError('"entries" must be an array', 'entries')
        for (const item of entries) {
          assertKey(item?.key)
          assertKnownOptions(item, MSET_ITEM_NAMES, 'an option of an mset() item')
          assertValue(item.value, item.key)
        }
        await Promise.all(entries.map(({ key, value, ...options }) => this.#set(key, value, options)))
      },
    )
  }

  /** Reads and deletes in one call. */
  async pull<T = unknown>(key: string | { key: string }): Promise<T | undefined> {
    const value = await this.get<T>(objectKey(key))
    await this.delete(key)
    return value
  }

  /** Removes a key from every layer and every instance's L1. Resolves true when some layer held it. */
  delete(key: string | { key: string }): Promise<boolean> {
    const k = objectKey(key)
    return this.#trace(
      () => ({ operation: 'delete', key: this.#visible(k) }),
      async () => {
        this.#engine.assertOpen()
        assertKey(k)
        const full = this.#full(k)
        const existed = (await deleteKeys(this.#engine, [full])) > 0
        this.#engine.metrics.deletes++
        if (this.#engine.emitter.has('delete'))
          this.#engine.emitter.emit('delete', { key: this.#namespace + k })
        return existed
      },
    )
  }

  /** Removes many keys (one round trip per layer); one `delete` event per key. */
  deleteMany(keys: readonly string[] | { keys: readonly string[] }): Promise<void> {
    const list = keysArg(keys)
    const visible = () => ({
      operation: 'delete' as const,
      keys: Array.isArray(list) ? list.map((key) => this.#visible(key) ?? '') : undefined,
    })
    return this.#trace(visible, async () => {
      this.#engine.assertOpen()
      for (const key of list) assertKey(key)
      await deleteKeys(
        this.#engine,
        list.map((key) => this.#full(key)),
      )
      this.#engine.metrics.deletes += list.length
      if (this.#engine.emitter.has('delete')) {
        for (const key of list) this.#engine.emitter.emit('delete', { key: this.#namespace + key })
      }
    })
  }

  /** Alias of `deleteMany`. */
  mdelete(keys: readonly string[] | { keys: readonly string[] }): Promise<void> {
    return this.deleteMany(keys)
  }

  /** Soft delete: the entry turns stale (still served within its grace window); fresh reads miss. */
  expire(key: string | { key: string }): Promise<void> {
    const k = objectKey(key)
    return this.#trace(
      () => ({ operation: 'expire', key: this.#visible(k) }),
      async () => {
        this.#engine.assertOpen()
        assertKey(k)
        await expireKeys(this.#engine, [this.#full(k)])
        if (this.#engine.emitter.has('expire'))
          this.#engine.emitter.emit('expire', { key: this.#namespace + k })
      },
    )
  }

  /** Removes every key of this stack (or of this namespace) from every layer and every instance. */
  clear(): Promise<void> {
    return this.#trace(
      () => ({ operation: 'clear' }),
      async () => {
        const engine = this.#engine
        engine.assertOpen()
        const prefix = this.#namespace === '' ? '' : engine.generationPrefix + this.#namespace
        await clearPrefix(engine, prefix)
        engine.sync.cleared(prefix)
        engine.emitter.emit('clear', { namespace: this.#namespace })
      },
    )
  }

  /** Hard invalidation: every entry carrying the tag misses afterwards, grace or not. */
  invalidateByTag(tag: string): Promise<void> {
    return this.invalidateByTags([tag])
  }

  /** Hard invalidation of entries carrying any (default) or all of the tags. */
  invalidateByTags(
    tags: string | readonly string[] | { tags: readonly string[] },
    mode: 'any' | 'all' = 'any',
  ): Promise<void> {
    return this.#invalidateTags(tagsArg(tags), mode, 'hard')
  }

  /** AdonisJS/Bentocache form of `invalidateByTags`. */
  deleteByTag(tags: { tags: readonly string[] } | readonly string[] | string): Promise<void> {
    return this.invalidateByTags(tags)
  }

  /** Soft invalidation: entries carrying the tag turn stale (served within grace). */
  expireByTag(tag: string): Promise<void> {
    return this.expireByTags([tag])
  }

  /** Soft invalidation of entries carrying any (default) or all of the tags. */
  expireByTags(
    tags: string | readonly string[] | { tags: readonly string[] },
    mode: 'any' | 'all' = 'any',
  ): Promise<void> {
    return this.#invalidateTags(tagsArg(tags), mode, 'soft')
  }

  #invalidateTags(tags: readonly string[], mode: 'any' | 'all', strength: 'hard' | 'soft'): Promise<void> {
    if (mode !== 'any' && mode !== 'all') throw new ValidationError(`mode must be 'any' or 'all'`, 'mode')
    return this.#trace(
      () => ({ operation: 'invalidate', tags, mode: strength }),
      async () => {
        const engine = this.#engine
        engine.assertOpen()
        const names = tags.map((tag) => scopedTag(this.#namespace, tag))
        if (mode === 'all' && names.length > 1) await invalidateTagSet(engine, names, strength)
        else await invalidateTags(engine, names, strength)
        engine.emitter.emit('invalidate', { tags: [...tags], mode: strength })
      },
    )
  }

  /** Removes every key of this namespace starting with `prefix`, across layers and instances (SCAN on Redis). */
  invalidateByPrefix(prefix: string): Promise<void> {
    return this.#trace(
      () => ({ operation: 'invalidate', prefix, mode: 'hard' }),
      async () => {
        const engine = this.#engine
        engine.assertOpen()
        assertKey(prefix, 'prefix')
        const full = this.#full(prefix)
        await clearPrefix(engine, full)
        engine.sync.prefixCleared(full)
        engine.emitter.emit('invalidate', { prefix })
      },
    )
  }

  /** Removes every key of this namespace matching a glob (`*`, `?`, `[abc]`), across layers and instances. */
  invalidateByPattern(pattern: string): Promise<void> {
    return this.#trace(
      () => ({ operation: 'invalidate', pattern, mode: 'hard' }),
      async () => {
        const engine = this.#engine
        engine.assertOpen()
        assertKey(pattern, 'pattern')
        const scope = engine.generationPrefix + this.#namespace
        const literal = pattern.slice(0, pattern.search(/[*?[\\]|$/))
        await deleteMatching(
          engine,
          scope + literal,
          new RegExp(`^${escapeLiteral(scope)}${globToRegExp(pattern).source.slice(1)}`),
        )
        engine.sync.patternDeleted(scope, pattern)
        engine.emitter.emit('invalidate', { pattern })
      },
    )
  }

  /**
   * Returns a cached version of `fn`: each call's key is `prefix` plus its canonical arguments
   * (`{a,b}` = `{b,a}`, `1` ≠ `'1'`; long keys hashed).
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
    CacheStack.#pendingView = {
      engine: this.#engine,
      namespace: `${this.#namespace}${prefix}:`,
      root: this.#root,
    }
    return new CacheStack()
  }

  /** Instant bulk invalidation: every key written before now becomes unreachable, on every instance. */
  bumpGeneration(): Promise<number> {
    return this.#trace(
      () => ({ operation: 'bumpGeneration' }),
      () => this.#bumpGeneration(),
    )
  }

  async #bumpGeneration(): Promise<number> {
    const engine = this.#engine
    engine.assertOpen()
    if (engine.generation === undefined) {
      throw new ValidationError(
        'Generations are off: pass { generation: 1 } to the stack to use them',
        'generation',
      )
    }
    engine.setGeneration(engine.generation + 1)
    await engine.persistGeneration()
    engine.sync.generationBumped(engine.generation!)
    return engine.generation!
  }

  /** The current key generation, or `undefined` when generations are off. */
  getGeneration(): number | undefined {
    return this.#engine.generation
  }

  /** Counters per layer, latency percentiles, degraded layers, refreshes in flight. */
  getStats(): CacheStats {
    const engine = this.#engine
    let refreshes = 0
    for (const flight of engine.flights.values()) if (flight.background) refreshes++
    return engine.metrics.snapshot(refreshes, (i) => engine.isDegraded(i))
  }

  /** Same figures as `getStats()`. */
  getMetrics(): CacheMetrics {
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
  async healthCheck(): Promise<LayerHealth[]> {
    return Promise.all(
      this.#engine.layers.map(async (layer) => {
        const started = performance.now()
        try {
          await layer.ping()
          return { layer: layer.name, healthy: true, latency: performance.now() - started }
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error)
          return { layer: layer.name, healthy: false, latency: performance.now() - started, error: message }
        }
      }),
    )
  }

  /** Resolves when every layer answers and the bus (if any) is subscribed. */
  async ready(): Promise<void> {
    await this.#ready
    await Promise.all(this.#engine.layers.map((layer) => layer.ping()))
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

function assertOptionsObject(options: unknown, known: ReadonlySet<string>, what: string): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ValidationError(`options must be an object; got ${String(options)}`, 'options')
  }
  assertKnownOptions(options, known, what)
}

function pickTrace(trace: ReadTrace): ReadTrace {
  return { hit: trace.hit, stale: trace.stale, layer: trace.layer }
}

function escapeLiteral(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}

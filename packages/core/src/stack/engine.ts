import { DisconnectedError, LayerError, ValidationError } from '../errors.ts'
import { assertKnownOptions, joinNames, optionNames, unknownOption } from '../internal/known-options.ts'
import { optionalDuration } from '../internal/units.ts'
import {
  type CacheEntry,
  type CacheLayer,
  type Clock,
  type EntryHead,
  type LayerContext,
  systemClock,
} from '../layer.ts'
import { MemoryLayer } from '../layers/memory-layer.ts'
import type { CacheBus } from './bus-message.ts'
import { BusSync } from './bus-sync.ts'
import { ChangeLog } from './change-log.ts'
import { CircuitBreakers } from './circuit-breaker.ts'
import { LayerDegradation } from './degradation.ts'
import { CacheEmitter } from './events.ts'
import { needsFullPath } from './fast-path.ts'
import { LayerAccess } from './layer-access.ts'
import { deleteMatchingIn } from './layer-scan.ts'
import type { LazyAbort } from './lazy-abort.ts'
import { Metrics } from './metrics.ts'
import {
  type CacheStackOptions,
  DEFAULT_BACKGROUND_REFRESH_TIMEOUT,
  type ResolvedReadOptions,
  resolveReadOptions,
  resolveStackName,
  STACK_OPTION_NAMES,
} from './options.ts'
import { FetcherRateLimiter } from './rate-limiter.ts'
import { SharedState } from './shared-state.ts'
import type { SingleFlight } from './single-flight.ts'
import { SlidingTtl } from './sliding.ts'
import { resolveBaseDir } from './snapshot-file.ts'
import { HARD_INVALIDATED, TagRegistry } from './tags.ts'
import { AccessProfiles } from './ttl-policy.ts'
import { ValuePolicy } from './value-policy.ts'
import { resolveWriteBehind, WriteBehindQueue } from './write-behind.ts'

export type { Found } from './layer-access.ts'

/** A factory run in progress for one key; `invalidated` stops its result from being written. */
export interface Flight {
  promise: Promise<unknown>
  invalidated: boolean
  background: boolean
  /** Aborts the factory's signal (hard timeout, disconnect); the controller is made on first use. */
  controller: LazyAbort
}

/** Options of the stack that only the engine reads. */
export interface EngineOptions extends CacheStackOptions {
  bus?: CacheBus | undefined
  /** Cross-instance stampede protection (see `RedisSingleFlight`). @default undefined (per process only) */
  singleFlight?: SingleFlight | undefined
}

const ENGINE_OPTION_NAMES = joinNames(
  STACK_OPTION_NAMES,
  optionNames<Omit<EngineOptions, keyof CacheStackOptions>>({ bus: true, singleFlight: true }),
)

/**
 * The state every view (the root stack and its namespaces) shares: layers, clock, tag states, in-flight
 * factories, metrics and events. Views only add their key prefix.
 */
export class StackEngine {
  readonly layers: readonly CacheLayer[]
  /** Some layer is shared (Redis...): tag states and the generation are written there too. */
  readonly hasSharedLayer: boolean
  /** The `name` option: what metrics and health answers call this stack. */
  readonly name: string
  /** The local first layer the synchronous hit path reads; cleared once its `get` answers with a promise. */
  l1: CacheLayer | undefined
  readonly clock: Clock
  /** The stack runs on `systemClock`: its L1 hits may reuse a recent reading (`recentSystemNow`). */
  readonly systemTime: boolean
  readonly defaults: ResolvedReadOptions
  readonly emitter = new CacheEmitter()
  readonly metrics: Metrics
  readonly tags = new TagRegistry()
  /** Writes and removals in order, so a read overtaken by one does not back-fill what it read. */
  readonly changes = new ChangeLog()
  /** Tag states and generation as stored in shared layers. */
  readonly shared: SharedState
  readonly flights = new Map<string, Flight>()
  readonly backoffUntil = new Map<string, number>()
  readonly backgroundRefreshTimeout: number
  /** The directory file snapshots are confined to, resolved once. */
  readonly snapshotBaseDir: string
  readonly controller = new AbortController()
  /** What this instance says on the bus and how it applies what it hears. */
  readonly sync: BusSync
  readonly singleFlight: SingleFlight | undefined
  /** False when stack defaults (forceFresh, refreshAhead) need the full read path even for L1 hits. */
  readonly fastPath: boolean
  /** Reads through the layers, back-fills, writes one layer. */
  readonly access: LayerAccess
  #generation: number | undefined
  #generationPrefix = ''
  #disconnected = false
  /** Longest physical lifetime written so far: how long a tag state must be remembered. */
  #maxLifetime = 0
  readonly #writePolicy: 'strict' | 'best-effort'
  /** Graceful degradation of shared layers; `undefined` when turned off. */
  readonly degradation: LayerDegradation | undefined
  /** Circuit breakers guarding factories (`circuitBreaker`). */
  readonly breakers: CircuitBreakers
  /** Start-rate budgets of factories (`fetcherRateLimit`). */
  readonly rateLimiter: FetcherRateLimiter
  /** Hit counts of keys, for `adaptiveTtl`. */
  readonly profiles = new AccessProfiles()
  /** Refuses values some layer would not give back unchanged. */
  readonly values: ValuePolicy
  /** Throttles shared-layer writes of `slidingTtl` hits. */
  readonly sliding = new SlidingTtl()
  /** The queue of `writeStrategy: 'write-behind'`; `undefined` for write-through. */
  readonly writeBehind: WriteBehindQueue | undefined
  #lastStamp = 0

  constructor(layers: readonly CacheLayer[] | undefined, options: EngineOptions) {
    const list = layers ?? [new MemoryLayer()]
    if (!Array.isArray(list) || list.length === 0) {
      throw new ValidationError('"layers" must be a non-empty array of cache layers', 'layers')
    }
    const names = new Set<string>()
    for (const layer of list) {
      if (!layer || typeof layer.get !== 'function' || typeof layer.name !== 'string') {
        throw new ValidationError('"layers" holds something that is not a cache layer', 'layers')
      }
      if (names.has(layer.name)) throw new ValidationError(`Two layers are named "${layer.name}"`, 'layers')
      names.add(layer.name)
    }
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new ValidationError('CacheStack options must be an object', 'options')
    }
    assertKnownOptions(options, ENGINE_OPTION_NAMES, 'an option of new CacheStack()')
    if (options.clock !== undefined && typeof options.clock?.now !== 'function') {
      throw new ValidationError('"clock" must have a now() method', 'clock')
    }
    if (options.writePolicy !== undefined && !['strict', 'best-effort'].includes(options.writePolicy)) {
      throw new ValidationError(`"writePolicy" must be 'strict' or 'best-effort'`, 'writePolicy')
    }
    if (options.generation !== undefined && !Number.isInteger(options.generation)) {
      throw new ValidationError('"generation" must be an integer', 'generation')
    }
    this.name = resolveStackName(options.name)
    this.layers = list
    this.hasSharedLayer = list.some((layer) => !layer.isLocal)
    this.values = new ValuePolicy(list)
    this.shared = new SharedState(list, this.tags)
    this.l1 = list[0]!.isLocal ? list[0] : undefined
    this.clock = options.clock ?? systemClock
    this.systemTime = this.clock === systemClock
    this.defaults = resolveReadOptions(options)
    this.assertLayerTtls(this.defaults.layerTtls)
    // Sliding and adaptive TTLs must see every hit; the L1 fast path would skip them.
    this.fastPath = !needsFullPath(this.defaults)
    this.metrics = new Metrics(list.map((layer) => layer.name))
    this.backgroundRefreshTimeout =
      optionalDuration(options.backgroundRefreshTimeout, 'backgroundRefreshTimeout') ??
      DEFAULT_BACKGROUND_REFRESH_TIMEOUT
    this.snapshotBaseDir = resolveBaseDir(options.snapshotBaseDir)
    this.#writePolicy = options.writePolicy ?? 'best-effort'
    const degradation = LayerDegradation.resolve(options.gracefulDegradation, list)
    this.degradation =
      degradation &&
      new LayerDegradation(
        list,
        this.clock,
        this.emitter,
        {
          tags: (i, names) => this.shared.writeTagStates(i, names, this.#maxLifetime, this.clock.now()),
          matching: (i, scanPrefix, pattern) =>
            deleteMatchingIn(list[i]!, scanPrefix, pattern).then(() => {}),
        },
        degradation.retryAfter,
      )
    this.breakers = new CircuitBreakers(this.clock)
    this.rateLimiter = new FetcherRateLimiter(this.clock)
    const writeBehind = resolveWriteBehind(options.writeStrategy, options.writeBehind)
    this.writeBehind =
      writeBehind &&
      new WriteBehindQueue(
        {
          layers: list,
          isDegraded: (i) => this.isDegraded(i),
          failed: (i, error, keys) => {
            if (error !== undefined) this.layerFailed(i, 'set', error)
            this.degradation?.missedKeys(i, keys)
          },
          // The bus message follows the shared write: sent before it, another instance would drop its
          // copy, read the old value from the shared layer and keep that.
          written: (_i, keys) => {
            if (this.sync.publishing) this.sync.keysSet(keys)
          },
        },
        writeBehind,
      )
    this.sync = new BusSync(options.bus, this.emitter)
    this.access = new LayerAccess(this)
    this.singleFlight = options.singleFlight
    if (options.generation !== undefined) this.setGeneration(options.generation)
    const tags = this.tags
    // Tags only: a shared layer expires entries itself, and a clock reading costs 100+ ns on some
    // virtual machines. LayerAccess checks the same object again (the tag check is memoized on it).
    const killedByTag = (head: EntryHead) => tags.check(head) === HARD_INVALIDATED
    const context: LayerContext = {
      clock: this.clock,
      reportError: (error, operation, key) => this.emitter.emitError(error, operation, key),
      // None while no tag state is known: nothing can be dead by a tag, and a layer then decodes an
      // entry in one piece (a Redis hit of a stack that never invalidated pays nothing for the check).
      get isDead() {
        return tags.size > 0 ? killedByTag : undefined
      },
    }
    for (const layer of list) layer.attach?.(context)
  }

  /** A strictly increasing time: two writes in one millisecond still order against an invalidation. */
  stamp(): number {
    const now = this.clock.now()
    this.#lastStamp = now > this.#lastStamp ? now : this.#lastStamp + 1 / 1024
    return this.#lastStamp
  }

  assertOpen(): void {
    if (this.#disconnected) throw new DisconnectedError()
  }

  /** True once `disconnect()` started. */
  get disconnected(): boolean {
    return this.#disconnected
  }

  /** The key generation, or `undefined` when generations are off. */
  get generation(): number | undefined {
    return this.#generation
  }

  /** `g<generation>:`, or `''` when generations are off: the first part of every stored key. */
  get generationPrefix(): string {
    return this.#generationPrefix
  }

  /** Longest physical lifetime written or copied so far: how long a tag state must be remembered. */
  get maxLifetime(): number {
    return this.#maxLifetime
  }

  /** Records the lifetime of an entry written or copied (`undefined` = forever). */
  noteLifetime(lifetime: number | undefined): void {
    this.#maxLifetime = Math.max(this.#maxLifetime, lifetime ?? Number.POSITIVE_INFINITY)
  }

  /** A per-layer ttl map must name layers of this stack: `{ memroy: '1m' }` would otherwise do nothing. */
  assertLayerTtls(layerTtls: Readonly<Record<string, number>> | undefined): void {
    if (layerTtls === undefined) return
    const names = new Set(this.layers.map((layer) => layer.name))
    for (const name in layerTtls) {
      if (!names.has(name)) throw unknownOption(name, names, 'a layer of this stack', 'ttl')
    }
  }

  /** The write policy: throws when it counts `failures` layer failures as a failed operation. */
  enforceWritePolicy(failures: number, lastError: unknown, operation: string): void {
    if (failures > 0 && (this.#writePolicy === 'strict' || failures === this.layers.length)) {
      throw lastError instanceof LayerError ? lastError : new LayerError('all', operation, lastError)
    }
  }

  /** The write-behind entry queued for shared layer `i`, which a read of that layer must see first. */
  queuedWrite(i: number, key: string): CacheEntry | undefined {
    return this.writeBehind?.peek(i, key)
  }

  isDegraded(layer: number): boolean {
    return this.degradation?.isDegraded(layer) ?? false
  }

  /** Fetches an entry's tag states from shared layer `i`, where another instance may have recorded them. */
  async loadTagStates(i: number, entry: CacheEntry): Promise<void> {
    try {
      await this.shared.loadTagStates(i, entry)
    } catch (error) {
      this.layerFailed(i, 'get', error)
    }
  }

  setGeneration(value: number): void {
    this.#generation = value
    this.#generationPrefix = `g${value}:`
    this.emitter.generations = true
    this.invalidateFlights()
  }

  async persistGeneration(): Promise<void> {
    await this.shared.writeGeneration(this.#generation ?? 0)
  }

  /** Adopts a generation another instance may have bumped. */
  async loadGeneration(): Promise<void> {
    if (this.#generation === undefined) return
    const shared = await this.shared.readGeneration()
    if (shared !== undefined && shared > this.#generation) this.setGeneration(shared)
  }

  /**
   * Removes keys from every layer (or only the local ones, for messages from other instances). Resolves
   * with the most keys any one layer removed.
   */
  async removeKeys(keys: readonly string[], localOnly: boolean): Promise<number> {
    if (keys.length === 0) return 0
    let removed = 0
    this.changes.changed(keys)
    for (const key of keys) this.invalidateFlight(key)
    if (this.writeBehind) {
      this.writeBehind.drop(keys)
      await this.writeBehind.settled()
    }
    await this.eachLayer(
      'delete',
      localOnly,
      async (layer, i) => {
        if (this.isDegraded(i)) this.degradation!.missedKeys(i, keys)
        else removed = Math.max(removed, await layer.deleteMany(keys))
      },
      (i) => this.degradation?.missedKeys(i, keys),
    )
    return removed
  }

  /** Stops the result of the factory running for `key` (if any) from being written. */
  invalidateFlight(key: string): void {
    const flight = this.flights.get(key)
    if (flight) flight.invalidated = true
  }

  /** Stops the results of running factories (all, or those whose key matches) from being written. */
  invalidateFlights(matches?: (key: string) => boolean): void {
    if (this.flights.size === 0) return
    for (const [key, flight] of this.flights) if (!matches || matches(key)) flight.invalidated = true
  }

  /** Runs `run` on every layer (local ones only when `localOnly`), applying the write policy to failures. */
  async eachLayer(
    operation: string,
    localOnly: boolean,
    run: (layer: CacheLayer, i: number) => Promise<void>,
    missed?: (i: number) => void,
  ): Promise<void> {
    let failures = 0
    let lastError: unknown
    await Promise.all(
      this.layers.map(async (layer, i) => {
        if (localOnly && !layer.isLocal) return
        try {
          await run(layer, i)
        } catch (error) {
          failures++
          lastError = error
          this.layerFailed(i, operation, error)
          missed?.(i)
        }
      }),
    )
    if (failures > 0 && (this.#writePolicy === 'strict' || failures === this.layers.length)) {
      throw lastError instanceof LayerError ? lastError : new LayerError('all', operation, lastError)
    }
  }

  /** Reports a layer failure; with graceful degradation a shared layer is then skipped and probed. */
  layerFailed(i: number, operation: string, error: unknown, key?: string): void {
    const layer = this.layers[i]!
    this.metrics.layers[i]!.errors++
    const wrapped = error instanceof LayerError ? error : new LayerError(layer.name, operation, error)
    this.emitter.emitError(wrapped, operation, key)
    if (!this.#disconnected) this.degradation?.failed(i, wrapped)
  }

  async disconnect(): Promise<void> {
    if (this.#disconnected) return
    this.#disconnected = true
    this.controller.abort(new DisconnectedError())
    for (const flight of this.flights.values()) flight.controller.abort(new DisconnectedError())
    this.degradation?.dispose()
    // Flights are not awaited: their results are no longer written, and a factory that ignores its
    // signal would otherwise hold disconnect() forever.
    // Queued writes reach the shared layers before they close; a crash before this point loses them.
    await this.writeBehind?.dispose()
    await this.sync.dispose()
    await this.singleFlight?.dispose()
    await Promise.allSettled(this.layers.map((layer) => layer.dispose()))
  }
}

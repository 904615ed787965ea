import { ValidationError } from '../errors.ts'
import { assertKnownNested, optionNames } from '../internal/known-options.ts'
import { type Duration, optionalDuration } from '../internal/units.ts'
import type { CacheLayer, Clock } from '../layer.ts'
import type { CacheEmitter } from './events.ts'

/** How long a degraded shared layer is skipped before the next probe. @default 1000 */
export const DEFAULT_DEGRADED_RETRY = 1_000
/** Keys remembered per degraded layer; past this the whole layer is cleared on recovery. */
export const MAX_PENDING_KEYS = 10_000
const DELETE_BATCH = 500

/** `gracefulDegradation` as the stack takes it. */
export type GracefulDegradationOption = boolean | { retryAfter?: Duration }

const DEGRADATION_NAMES = optionNames<{ retryAfter?: Duration }>({ retryAfter: true })

/** What recovery replays that only the engine knows how to do. */
export interface DegradationReplay {
  /** Writes the current states of these tags to shared layer `i` (merged with what it holds). */
  tags(i: number, names: readonly string[]): Promise<void>
  /** Deletes the keys under `scanPrefix` matching `pattern` from layer `i`. */
  matching(i: number, scanPrefix: string, pattern: RegExp): Promise<void>
}

/** Changes a degraded layer missed, replayed before it serves again. */
interface Missed {
  keys: Set<string>
  prefixes: Set<string>
  patterns: { scanPrefix: string; pattern: RegExp }[]
  tags: Set<string>
  /** More keys than we remember were touched: only clearing the layer is safe. */
  overflow: boolean
}

function nothingMissed(): Missed {
  return { keys: new Set(), prefixes: new Set(), patterns: [], tags: new Set(), overflow: false }
}

function isEmpty(missed: Missed): boolean {
  return (
    !missed.overflow &&
    missed.keys.size === 0 &&
    missed.prefixes.size === 0 &&
    missed.patterns.length === 0 &&
    missed.tags.size === 0
  )
}

/**
 * Graceful degradation of shared layers: a shared layer that fails is skipped, probed every
 * `retryAfter` until it answers, and brought back only after the writes, deletes, clears and tag
 * invalidations it missed have been replayed on it. Writes are replayed as deletes: the layer then
 * misses instead of serving the value it held before the outage.
 */
export class LayerDegradation {
  readonly retryAfter: number
  readonly #layers: readonly CacheLayer[]
  readonly #clock: Clock
  readonly #emitter: CacheEmitter
  readonly #replay: DegradationReplay
  readonly #degradedSince: number[]
  readonly #missed: Missed[]
  readonly #probes: (NodeJS.Timeout | undefined)[]
  #disposed = false

  constructor(
    layers: readonly CacheLayer[],
    clock: Clock,
    emitter: CacheEmitter,
    replay: DegradationReplay,
    retryAfter: number,
  ) {
    this.#layers = layers
    this.#clock = clock
    this.#emitter = emitter
    this.#replay = replay
    this.retryAfter = retryAfter
    this.#degradedSince = layers.map(() => 0)
    this.#missed = layers.map(nothingMissed)
    this.#probes = layers.map(() => undefined)
  }

  /** Resolves the option: on by default when a local layer can answer while a shared one is down. */
  static resolve(option: GracefulDegradationOption | undefined, layers: readonly CacheLayer[]) {
    assertKnownNested(option, DEGRADATION_NAMES, 'an option of new CacheStack()', 'gracefulDegradation')
    const enabled = option === undefined ? layers.some((layer) => layer.isLocal) : option !== false
    if (!enabled) return undefined
    const retryAfter =
      typeof option === 'object' && option !== null
        ? optionalDuration(option.retryAfter, 'gracefulDegradation.retryAfter')
        : undefined
    return { retryAfter: retryAfter ?? DEFAULT_DEGRADED_RETRY }
  }

  isDegraded(i: number): boolean {
    return this.#degradedSince[i]! > 0
  }

  /** Takes shared layer `i` out of service after a failure and starts probing it. */
  failed(i: number, error: unknown): void {
    const layer = this.#layers[i]!
    if (layer.isLocal || this.#degradedSince[i]! > 0 || this.#disposed) return
    this.#degradedSince[i] = Math.max(1, this.#clock.now())
    this.#emitter.emitLayerDegraded(layer.name, error)
    this.#scheduleProbe(i)
  }

  /** Remembers keys written or deleted while layer `i` is out, to delete them there on recovery. */
  missedKeys(i: number, keys: readonly string[]): void {
    if (!this.isDegraded(i)) return
    const missed = this.#missed[i]!
    for (const key of keys) {
      if (missed.keys.size >= MAX_PENDING_KEYS) {
        missed.overflow = true
        return
      }
      missed.keys.add(key)
    }
  }

  /** Remembers a `clear` / `invalidateByPrefix` ('' = everything) layer `i` missed. */
  missedPrefix(i: number, prefix: string): void {
    if (!this.isDegraded(i)) return
    if (prefix === '') this.#missed[i]!.overflow = true
    else this.#missed[i]!.prefixes.add(prefix)
  }

  /** Remembers an `invalidateByPattern` layer `i` missed. */
  missedPattern(i: number, scanPrefix: string, pattern: RegExp): void {
    if (this.isDegraded(i)) this.#missed[i]!.patterns.push({ scanPrefix, pattern })
  }

  /** Remembers tag invalidations layer `i` missed (their states are written there on recovery). */
  missedTags(i: number, names: readonly string[]): void {
    if (!this.isDegraded(i)) return
    for (const name of names) this.#missed[i]!.tags.add(name)
  }

  #scheduleProbe(i: number): void {
    const timer = setTimeout(() => {
      this.#probes[i] = undefined
      this.#probe(i).catch(() => {})
    }, this.retryAfter)
    timer.unref()
    this.#probes[i] = timer
  }

  async #probe(i: number): Promise<void> {
    if (this.#disposed) return
    const layer = this.#layers[i]!
    try {
      await layer.ping()
      // Changes made during the replay land in a fresh record; loop until nothing is left to replay.
      for (let round = 0; round < 10; round++) {
        const missed = this.#missed[i]!
        if (isEmpty(missed)) break
        this.#missed[i] = nothingMissed()
        try {
          await this.#replayOn(i, missed)
        } catch (error) {
          this.#merge(i, missed)
          throw error
        }
      }
    } catch {
      if (!this.#disposed) this.#scheduleProbe(i)
      return
    }
    if (this.#disposed) return
    this.#degradedSince[i] = 0
    this.#emitter.emitLayerRecovered(layer.name)
  }

  async #replayOn(i: number, missed: Missed): Promise<void> {
    const layer = this.#layers[i]!
    if (missed.overflow) {
      try {
        await layer.clear()
      } catch (error) {
        // A layer that refuses a whole clear (RedisLayer with an empty prefix) cannot be made safe here.
        if (!(error instanceof ValidationError)) throw error
        this.#emitter.emitError(error, 'recover')
      }
    } else {
      for (const prefix of missed.prefixes) await layer.clear(prefix)
      for (const { scanPrefix, pattern } of missed.patterns)
        await this.#replay.matching(i, scanPrefix, pattern)
      const keys = [...missed.keys]
      for (let start = 0; start < keys.length; start += DELETE_BATCH) {
        await layer.deleteMany(keys.slice(start, start + DELETE_BATCH))
      }
    }
    // Tag states survive a clear of values: they must reach the layer in every case.
    if (missed.tags.size > 0) await this.#replay.tags(i, [...missed.tags])
  }

  #merge(i: number, missed: Missed): void {
    const current = this.#missed[i]!
    current.overflow ||= missed.overflow
    for (const key of missed.keys) current.keys.add(key)
    for (const prefix of missed.prefixes) current.prefixes.add(prefix)
    current.patterns.unshift(...missed.patterns)
    for (const tag of missed.tags) current.tags.add(tag)
    if (current.keys.size > MAX_PENDING_KEYS) current.overflow = true
  }

  /** Stops probing. */
  dispose(): void {
    this.#disposed = true
    for (const timer of this.#probes) if (timer) clearTimeout(timer)
  }
}

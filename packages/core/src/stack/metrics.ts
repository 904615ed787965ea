import type { LayerUsage } from '../layer.ts'

/** Counters of one layer, with sampled latencies. */
interface LayerCounters {
  hits: number
  /** Hits this layer answered with a stale entry (stale-while-revalidate, grace). */
  staleHits: number
  misses: number
  errors: number
  latencies: LatencyReservoir
}

/**
 * Per-layer figures in `getStats()`. Latencies are in milliseconds, rounded to 3 significant digits,
 * over the latest 1,024 timed reads of the layer (nearest-rank percentiles). Shared layers time every
 * read; the memory layer times its first 16 hits, then one in 64. `samples` says how many reads the
 * percentiles rest on (0: none yet, and p50/p99 are 0).
 */
export interface LayerStats {
  name: string
  hits: number
  /** Of `hits`, those answered with a stale entry (stale-while-revalidate, grace). */
  staleHits: number
  misses: number
  errors: number
  p50: number
  p99: number
  /** Timed reads behind p50/p99 (at most 1,024). */
  samples: number
  degraded: boolean
  /** Entries held, for layers that can tell cheaply (`MemoryLayer`); absent otherwise. */
  items?: number
  /** Estimated bytes held, for layers that track them (`MemoryLayer` with a byte budget); absent otherwise. */
  bytes?: number
}

/** The shape `getStats()` answers. */
export interface CacheStats {
  hits: number
  misses: number
  staleHits: number
  sets: number
  deletes: number
  hitRate: number
  refreshesInFlight: number
  /** Factory runs started (foreground and background), one per key however many callers waited on it. */
  factoryRuns: number
  /** Factory runs that threw (a stale value may still have been served in their place). */
  factoryErrors: number
  /** Reads that waited on a factory run another caller in this process had started. */
  coalesced: number
  /** Background refreshes started (stale-while-revalidate, refresh-ahead). */
  backgroundRefreshes: number
  /** With a bus: whether messages from other instances arrive now. Absent without a bus. */
  busConnected?: boolean
  layers: LayerStats[]
}

/** Figures `Metrics.snapshot` reads from the stack at the time of the call. */
export interface LiveFigures {
  refreshesInFlight: number
  degraded: (layer: number) => boolean
  usage: (layer: number) => LayerUsage | undefined
  busConnected: boolean | undefined
}

const RESERVOIR_SIZE = 1024

/** Keeps the latest RESERVOIR_SIZE samples in a ring: p50/p99 reflect recent behaviour, memory stays flat. */
class LatencyReservoir {
  readonly #samples = new Float64Array(RESERVOIR_SIZE)
  #count = 0

  add(ms: number): void {
    this.#samples[this.#count % RESERVOIR_SIZE] = ms
    this.#count++
  }

  get size(): number {
    return Math.min(this.#count, RESERVOIR_SIZE)
  }

  /** Nearest rank: the smallest sample with at least `p` of the samples at or below it. */
  percentile(p: number): number {
    const n = this.size
    if (n === 0) return 0
    const sorted = this.#samples.slice(0, n).sort()
    return sorted[Math.max(0, Math.ceil(p * n) - 1)] ?? 0
  }

  reset(): void {
    this.#count = 0
  }
}

/**
 * Counters for a stack. L1 hits are timed one in `SAMPLE_EVERY` calls: reading the high-resolution timer
 * twice would cost more than the hit itself.
 */
export class Metrics {
  hits = 0
  misses = 0
  staleHits = 0
  sets = 0
  deletes = 0
  factoryRuns = 0
  factoryErrors = 0
  coalesced = 0
  backgroundRefreshes = 0
  readonly layers: LayerCounters[]
  readonly #names: readonly string[]

  constructor(layerNames: readonly string[]) {
    this.#names = layerNames
    this.layers = layerNames.map(() => ({
      hits: 0,
      staleHits: 0,
      misses: 0,
      errors: 0,
      latencies: new LatencyReservoir(),
    }))
  }

  snapshot(live: LiveFigures): CacheStats {
    const total = this.hits + this.misses
    const stats: CacheStats = {
      hits: this.hits,
      misses: this.misses,
      staleHits: this.staleHits,
      sets: this.sets,
      deletes: this.deletes,
      hitRate: total === 0 ? 0 : Math.round((this.hits / total) * 10_000) / 10_000,
      refreshesInFlight: live.refreshesInFlight,
      factoryRuns: this.factoryRuns,
      factoryErrors: this.factoryErrors,
      coalesced: this.coalesced,
      backgroundRefreshes: this.backgroundRefreshes,
      layers: this.layers.map((layer, i) => {
        const figures: LayerStats = {
          name: this.#names[i] ?? `layer-${i}`,
          hits: layer.hits,
          staleHits: layer.staleHits,
          misses: layer.misses,
          errors: layer.errors,
          p50: round(layer.latencies.percentile(0.5)),
          p99: round(layer.latencies.percentile(0.99)),
          samples: layer.latencies.size,
          degraded: live.degraded(i),
        }
        const usage = live.usage(i)
        if (usage !== undefined) {
          figures.items = usage.items
          if (usage.bytes !== undefined) figures.bytes = usage.bytes
        }
        return figures
      }),
    }
    if (live.busConnected !== undefined) stats.busConnected = live.busConnected
    return stats
  }

  reset(): void {
    this.hits = this.misses = this.staleHits = this.sets = this.deletes = 0
    this.factoryRuns = this.factoryErrors = this.coalesced = this.backgroundRefreshes = 0
    for (const layer of this.layers) {
      layer.hits = layer.staleHits = layer.misses = layer.errors = 0
      layer.latencies.reset()
    }
  }
}

/**
 * One L1 hit in this many is timed (after the first TIMED_FIRST, which all are). A timed hit reads the
 * high-resolution timer twice, 50-150 ns a reading on some virtual machines (kvm-clock): one in 16 cost
 * ~6 ns per hit there, one in 64 ~2 ns. The 1,024 latest samples then span the latest 65,536 hits.
 */
export const SAMPLE_EVERY = 64
const TIMED_FIRST = 16

/** Whether the `n`-th L1 hit (1-based) is timed: the first few always, so p50 means something early. */
export function sampleHit(n: number): boolean {
  return n <= TIMED_FIRST || (n & (SAMPLE_EVERY - 1)) === 0
}

/** Milliseconds to 3 significant digits: 0.000412, 0.0371, 12.3, 1230. */
export function roundMs(ms: number): number {
  return ms === 0 || !Number.isFinite(ms) ? ms : Number(ms.toPrecision(3))
}

const round = roundMs

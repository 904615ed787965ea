/** Counters of one layer, with sampled latencies. */
interface LayerCounters {
  hits: number
  misses: number
  errors: number
  latencies: LatencyReservoir
}

/**
 * Per-layer figures in `getStats()`. Latencies are in milliseconds, rounded to 3 significant digits,
 * over the latest 1,024 timed reads of the layer (nearest-rank percentiles). Shared layers time every
 * read; the memory layer times its first 16 hits, then one in 16. `samples` says how many reads the
 * percentiles rest on (0: none yet, and p50/p99 are 0).
 */
export interface LayerStats {
  name: string
  hits: number
  misses: number
  errors: number
  p50: number
  p99: number
  /** Timed reads behind p50/p99 (at most 1,024). */
  samples: number
  degraded: boolean
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
  layers: LayerStats[]
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
  readonly layers: LayerCounters[]
  readonly #names: readonly string[]

  constructor(layerNames: readonly string[]) {
    this.#names = layerNames
    this.layers = layerNames.map(() => ({ hits: 0, misses: 0, errors: 0, latencies: new LatencyReservoir() }))
  }

  snapshot(refreshesInFlight: number, degraded: (layer: number) => boolean): CacheStats {
    const total = this.hits + this.misses
    return {
      hits: this.hits,
      misses: this.misses,
      staleHits: this.staleHits,
      sets: this.sets,
      deletes: this.deletes,
      hitRate: total === 0 ? 0 : Math.round((this.hits / total) * 10_000) / 10_000,
      refreshesInFlight,
      layers: this.layers.map((layer, i) => ({
        name: this.#names[i] ?? `layer-${i}`,
        hits: layer.hits,
        misses: layer.misses,
        errors: layer.errors,
        p50: round(layer.latencies.percentile(0.5)),
        p99: round(layer.latencies.percentile(0.99)),
        samples: layer.latencies.size,
        degraded: degraded(i),
      })),
    }
  }

  reset(): void {
    this.hits = this.misses = this.staleHits = this.sets = this.deletes = 0
    for (const layer of this.layers) {
      layer.hits = layer.misses = layer.errors = 0
      layer.latencies.reset()
    }
  }
}

/** One L1 hit in this many is timed (after the first SAMPLE_EVERY, which all are). */
export const SAMPLE_EVERY = 16

/** Whether the `n`-th L1 hit (1-based) is timed: the first few always, so p50 means something early. */
export function sampleHit(n: number): boolean {
  return n <= SAMPLE_EVERY || (n & (SAMPLE_EVERY - 1)) === 0
}

/** Milliseconds to 3 significant digits: 0.000412, 0.0371, 12.3, 1230. */
export function roundMs(ms: number): number {
  return ms === 0 || !Number.isFinite(ms) ? ms : Number(ms.toPrecision(3))
}

const round = roundMs

/** Counters of one layer, with sampled latencies. */
interface LayerCounters {
  hits: number
  misses: number
  errors: number
  latencies: LatencyReservoir
}

/** Per-layer figures in `getStats()`. Latencies are in milliseconds. */
export interface LayerStats {
  name: string
  hits: number
  misses: number
  errors: number
  p50: number
  p99: number
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

  percentile(p: number): number {
    const n = Math.min(this.#count, RESERVOIR_SIZE)
    if (n === 0) return 0
    const sorted = this.#samples.slice(0, n).sort()
    return sorted[Math.min(n - 1, Math.floor(p * n))] ?? 0
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
      hitRate: total === 0 ? 0 : this.hits / total,
      refreshesInFlight,
      layers: this.layers.map((layer, i) => ({
        name: this.#names[i] ?? `layer-${i}`,
        hits: layer.hits,
        misses: layer.misses,
        errors: layer.errors,
        p50: round(layer.latencies.percentile(0.5)),
        p99: round(layer.latencies.percentile(0.99)),
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

/** One L1 hit in this many is timed. */
export const SAMPLE_EVERY = 16

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}

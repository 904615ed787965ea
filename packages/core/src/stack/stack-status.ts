// What `getStats()` and `healthCheck()` report for a stack.

import type { CacheLayer } from '../layer.ts'
import type { LayerHealth } from './api-types.ts'
import type { StackEngine } from './engine.ts'
import { type CacheStats, roundMs } from './metrics.ts'

/** Counters per layer, latency percentiles, degraded layers, refreshes in flight. */
export function stackStats(engine: StackEngine): CacheStats {
  let refreshes = 0
  for (const flight of engine.flights.values()) if (flight.background) refreshes++
  return engine.metrics.snapshot({
    refreshesInFlight: refreshes,
    degraded: (i) => engine.isDegraded(i),
    usage: (i) => engine.layers[i]!.usage?.(),
    busConnected: engine.sync.connected,
  })
}

/** Pings every layer; never throws. */
export function healthCheck(layers: readonly CacheLayer[]): Promise<LayerHealth[]> {
  return Promise.all(
    layers.map(async (layer) => {
      const started = performance.now()
      try {
        await layer.ping()
        return { layer: layer.name, healthy: true, latency: roundMs(performance.now() - started) }
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        return {
          layer: layer.name,
          healthy: false,
          latency: roundMs(performance.now() - started),
          error: message,
        }
      }
    }),
  )
}

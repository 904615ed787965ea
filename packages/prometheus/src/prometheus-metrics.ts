import { ValidationError } from '@cachestack/core'
import { exporterFor, releaseExporter } from './exporter.ts'
import { DurationRecorder, startTiming, stopTiming } from './operation-durations.ts'
import { normalizeOptions, type PrometheusMetricsOptions } from './options.ts'
import { type MeasurableCache, StackSource } from './stack-source.ts'

/**
 * Registers `cache`'s series in a prom-client registry (`cache` label = the stack's `name` option) and
 * returns the function that removes them. Several stacks may share a registry when their names differ.
 * Counters and gauges are read from `getStats()` and event tallies at scrape time; only the duration
 * histogram (`durations`, on by default) does work per operation.
 */
export function prometheusMetrics(cache: MeasurableCache, options?: PrometheusMetricsOptions): () => void {
  if (typeof cache !== 'object' || cache === null || typeof cache.getStats !== 'function') {
    throw new ValidationError('prometheusMetrics needs a CacheStack', 'cache')
  }
  if (cache.prefix !== '') {
    throw new ValidationError(
      `prometheusMetrics needs the root stack, not the namespace view "${cache.prefix}" (views share its figures)`,
      'cache',
    )
  }
  const normalized = normalizeOptions(options)
  const exporter = exporterFor(normalized)
  if (exporter.sources.has(cache)) {
    throw new ValidationError('This stack is already measured in this registry', 'cache')
  }
  for (const source of exporter.sources.values()) {
    if (source.name === cache.name) {
      throw new ValidationError(
        `Another stack named "${cache.name}" is measured in this registry: give each stack its own name option`,
        'cache',
      )
    }
  }
  if ((exporter.durations !== undefined) !== normalized.durations) {
    throw new ValidationError(
      '"durations" differs from the stacks already measured in this registry under this prefix',
      'durations',
    )
  }
  const source = new StackSource(cache)
  exporter.sources.set(cache, source)
  if (exporter.durations !== undefined)
    startTiming(cache, new DurationRecorder(exporter.durations, source.name))
  let done = false
  return () => {
    if (done) return
    done = true
    stopTiming(cache)
    source.dispose()
    exporter.sources.delete(cache)
    releaseExporter(normalized, exporter)
  }
}

export type { PrometheusMetricsOptions } from './options.ts'
export { DEFAULT_DURATION_BUCKETS, DEFAULT_PREFIX } from './options.ts'
export { prometheusMetrics } from './prometheus-metrics.ts'
export type { MeasurableCache } from './stack-source.ts'

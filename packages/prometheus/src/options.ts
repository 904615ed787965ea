import { assertKnownOptions, optionNames, ValidationError } from '@cachestack/core'
import { type Registry, type RegistryContentType, register } from 'prom-client'

/** Options of `prometheusMetrics`. */
export interface PrometheusMetricsOptions {
  /** The registry the series are registered in (Prometheus or OpenMetrics format). @default prom-client's global `register` */
  registry?: Registry<RegistryContentType> | undefined
  /** Put in front of every metric name. @default 'cachestack_' */
  prefix?: string | undefined
  /**
   * Time every operation into `<prefix>operation_duration_seconds` (fed by the `cachestack:operation`
   * diagnostics channel). The only per-operation work of the exporter: `false` leaves a pure
   * scrape-time collector that adds nothing to the hit path. @default true
   */
  durations?: boolean | undefined
  /** Upper bounds (seconds) of the duration histogram's buckets, ascending. @default DEFAULT_DURATION_BUCKETS */
  buckets?: readonly number[] | undefined
}

/** `PrometheusMetricsOptions` with defaults applied. */
export interface NormalizedOptions {
  readonly registry: Registry<RegistryContentType>
  readonly prefix: string
  readonly durations: boolean
  readonly buckets: readonly number[]
}

/** @default buckets: 1 µs (an in-memory hit takes about that) to 5 s (a slow factory), three per decade. */
export const DEFAULT_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
])

/** @default prefix of every metric name. */
export const DEFAULT_PREFIX = 'cachestack_'

const NAMES = optionNames<PrometheusMetricsOptions>({
  registry: true,
  prefix: true,
  durations: true,
  buckets: true,
})
const METRIC_PREFIX = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/

/** Checks the options once; an unknown or mistyped option is a `ValidationError` naming it. */
export function normalizeOptions(options: PrometheusMetricsOptions | undefined): NormalizedOptions {
  if (options === undefined) options = {}
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ValidationError('prometheusMetrics options must be an object', 'options')
  }
  assertKnownOptions(options, NAMES, 'an option of prometheusMetrics()')
  const { registry = register, prefix = DEFAULT_PREFIX, durations = true, buckets } = options
  if (typeof registry?.registerMetric !== 'function' || typeof registry.metrics !== 'function') {
    throw new ValidationError('"registry" must be a prom-client Registry', 'registry')
  }
  if (typeof prefix !== 'string' || (prefix !== '' && !METRIC_PREFIX.test(prefix))) {
    throw new ValidationError(
      '"prefix" must be a valid start of a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)',
      'prefix',
    )
  }
  if (typeof durations !== 'boolean') throw new ValidationError('"durations" must be a boolean', 'durations')
  return { registry, prefix, durations, buckets: checkBuckets(buckets) }
}

function checkBuckets(buckets: readonly number[] | undefined): readonly number[] {
  if (buckets === undefined) return DEFAULT_DURATION_BUCKETS
  const ascending =
    Array.isArray(buckets) &&
    buckets.length > 0 &&
    buckets.every(
      (bound, i) =>
        typeof bound === 'number' &&
        bound > 0 &&
        Number.isFinite(bound) &&
        (i === 0 || bound > buckets[i - 1]!),
    )
  if (!ascending) {
    throw new ValidationError('"buckets" must be a non-empty list of ascending positive seconds', 'buckets')
  }
  return Object.freeze([...buckets])
}

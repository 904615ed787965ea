import { ValidationError } from '../errors.ts'
import { assertKnownOptions, optionNames } from '../internal/known-options.ts'
import { type Duration, optionalDuration } from '../internal/units.ts'
import type { LayerHealth } from '../stack/api-types.ts'
import type { CacheStats } from '../stack/metrics.ts'
import type { OutgoingResponse } from './reply.ts'
import { STATS_HEADERS } from './stats.ts'

/** What a health route needs of a stack (a `CacheStack`, structurally). */
export interface HealthCheckedStore {
  healthCheck(): Promise<LayerHealth[]>
  getStats(): CacheStats
}

/** Options of every adapter's `healthRoute`. */
export interface HealthRouteConfig {
  /** The stack whose layers and bus are checked. */
  cache: HealthCheckedStore
  /**
   * `'readiness'`: 200 only while every layer answers a ping, none is degraded and the bus (if any) hears
   * other instances; 503 otherwise (take the pod out of the load balancer). `'liveness'`: 200 whenever
   * the process answers: a Redis outage is no reason to restart the app, which serves around it.
   */
  probe: 'readiness' | 'liveness'
  /**
   * Readiness: still ready while a shared layer is degraded or down, or the bus deaf, as long as one
   * layer answers (the stack serves from memory and the factory meanwhile). @default false
   */
  allowDegraded?: boolean | undefined
  /** Readiness: a check slower than this answers 503 (each Redis ping is also bounded by its `commandTimeout`). @default '2s' */
  timeout?: Duration | undefined
}

/** One layer in a readiness answer. Error messages stay out: probes are often public, and they name hosts. */
export interface LayerReadiness {
  name: string
  /** It answered a ping within the timeout. */
  healthy: boolean
  /** The stack is skipping it after failures (graceful degradation). */
  degraded: boolean
  /** Ping time in ms (3 significant digits). */
  latency: number
}

/** The JSON body of a health answer. */
export interface HealthReport {
  status: 'ok' | 'unavailable'
  probe: 'readiness' | 'liveness'
  /** Readiness only. */
  layers?: LayerReadiness[]
  /** Readiness only, with a bus. */
  bus?: { connected: boolean }
}

/** @default timeout of a readiness check, in ms. */
export const DEFAULT_HEALTH_TIMEOUT = 2_000

const HEALTH_ROUTE_NAMES = optionNames<HealthRouteConfig>({
  cache: true,
  probe: true,
  allowDegraded: true,
  timeout: true,
})

/**
 * Checks a health route's options once, at mounting, and returns what answers a probe: the adapter only
 * writes the answer in its framework's way.
 */
export function healthResponder(config: HealthRouteConfig): () => Promise<OutgoingResponse> {
  if (!config || typeof config !== 'object') throw new ValidationError('options must be an object', 'options')
  assertKnownOptions(config, HEALTH_ROUTE_NAMES, 'an option of healthRoute()')
  const { cache, probe, allowDegraded = false } = config
  if (!cache || typeof cache.healthCheck !== 'function' || typeof cache.getStats !== 'function') {
    throw new ValidationError('"cache" must be a CacheStack', 'cache')
  }
  if (probe !== 'readiness' && probe !== 'liveness') {
    throw new ValidationError(`"probe" must be 'readiness' or 'liveness'; got ${String(probe)}`, 'probe')
  }
  if (typeof allowDegraded !== 'boolean') {
    throw new ValidationError('"allowDegraded" must be a boolean', 'allowDegraded')
  }
  const timeout = optionalDuration(config.timeout, 'timeout') ?? DEFAULT_HEALTH_TIMEOUT
  if (probe === 'liveness') return async () => healthAnswer({ status: 'ok', probe })
  return async () => healthAnswer(await readiness(cache, allowDegraded, timeout))
}

/** Pings the layers (bounded by `timeout`) and reads degradation and bus state from the stats. */
export async function readiness(
  cache: HealthCheckedStore,
  allowDegraded: boolean,
  timeout: number,
): Promise<HealthReport> {
  const stats = cache.getStats()
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeout)
  })
  const pings = await Promise.race([cache.healthCheck().catch(() => undefined), late])
  clearTimeout(timer)
  const layers = stats.layers.map<LayerReadiness>((layer) => {
    const ping = pings?.find((health) => health.layer === layer.name)
    return {
      name: layer.name,
      healthy: ping?.healthy ?? false,
      degraded: layer.degraded,
      latency: ping?.latency ?? timeout,
    }
  })
  const report: HealthReport = { status: 'ok', probe: 'readiness', layers }
  if (stats.busConnected !== undefined) report.bus = { connected: stats.busConnected }
  const whole = layers.every((layer) => layer.healthy && !layer.degraded) && stats.busConnected !== false
  const serving = layers.some((layer) => layer.healthy)
  if (!(whole || (allowDegraded && serving))) report.status = 'unavailable'
  return report
}

/** 200 or 503 with the report as JSON, never cached, never sniffed. */
export function healthAnswer(report: HealthReport): OutgoingResponse {
  const body = Buffer.from(JSON.stringify(report))
  return {
    status: report.status === 'ok' ? 200 : 503,
    headers: [
      ...STATS_HEADERS,
      ['content-type', 'application/json; charset=utf-8'],
      ['content-length', String(body.length)],
    ],
    body,
  }
}

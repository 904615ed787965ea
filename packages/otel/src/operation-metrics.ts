import type { OperationContext } from '@cachestack/core'
import type {
  Attributes,
  Counter,
  Histogram,
  Meter,
  ObservableGauge,
  ObservableResult,
} from '@opentelemetry/api'
import { ATTR, METRIC } from './names.ts'

/** Operations whose answer is a hit, a stale hit or a miss. */
const READS = new Set(['get', 'has', 'ttl', 'inspect'])

/**
 * `cache.operations`, `cache.operation.duration` and `cache.hit_ratio` for one instrumented stack.
 * Attribute values come from small closed sets (operation, result, layer names, error class), never
 * from keys or tags, so the number of series stays bounded whatever the traffic.
 */
export class OperationMetrics {
  readonly #name: string
  readonly #operations: Counter
  readonly #duration: Histogram
  readonly #hitRatio: ObservableGauge
  /** One frozen attribute set per combination (operation → result → layer → error): no allocation once warm. */
  readonly #attributes = new Map<string, Map<string, Map<string, Map<string, Attributes>>>>()
  #last:
    | {
        operation: string
        result: string | undefined
        layer: string | undefined
        errorType: string | undefined
        attributes: Attributes
      }
    | undefined
  #hits = 0
  #misses = 0
  readonly #observe = (result: ObservableResult): void => {
    const total = this.#hits + this.#misses
    if (total > 0) result.observe(this.#hits / total, { [ATTR.name]: this.#name })
  }

  constructor(meter: Meter, name: string) {
    this.#name = name
    this.#operations = meter.createCounter(METRIC.operations, {
      description: 'Cache operations, by operation, result (hit, miss, stale) and layer',
      unit: '{operation}',
    })
    this.#duration = meter.createHistogram(METRIC.duration, {
      description: 'Duration of cache operations',
      unit: 'ms',
    })
    this.#hitRatio = meter.createObservableGauge(METRIC.hitRatio, {
      description: 'Share of reads answered from the cache (stale answers count as hits) since instrumenting',
      unit: '1',
    })
    this.#hitRatio.addCallback(this.#observe)
  }

  /** Records one finished operation. */
  record(message: OperationContext, ms: number, errorType: string | undefined): void {
    const read = READS.has(message.operation)
    const result = read
      ? message.hit !== true
        ? 'miss'
        : message.stale === true
          ? 'stale'
          : 'hit'
      : undefined
    if (message.operation === 'get') {
      if (message.hit === true) this.#hits++
      else if (message.hit === false) this.#misses++
    } else if (message.operation === 'mget' && message.hits !== undefined) {
      // mget's missed keys are read with `get`, which counts them.
      this.#hits += message.hits
    }
    const attributes = this.#attributesOf(message.operation, result, message.layer, errorType)
    this.#operations.add(1, attributes)
    this.#duration.record(ms, attributes)
  }

  #attributesOf(
    operation: string,
    result: string | undefined,
    layer: string | undefined,
    errorType: string | undefined,
  ): Attributes {
    // Most operations repeat the previous one's combination (a run of hits): skip the lookup then.
    const last = this.#last
    if (
      last !== undefined &&
      last.operation === operation &&
      last.result === result &&
      last.layer === layer &&
      last.errorType === errorType
    )
      return last.attributes
    const attributes = this.#lookup(operation, result, layer, errorType)
    this.#last = { operation, result, layer, errorType, attributes }
    return attributes
  }

  #lookup(
    operation: string,
    result: string | undefined,
    layer: string | undefined,
    errorType: string | undefined,
  ): Attributes {
    const byResult = at(this.#attributes, operation)
    const byLayer = at(byResult, result ?? '')
    const byError = at(byLayer, layer ?? '')
    let attributes = byError.get(errorType ?? '')
    if (attributes === undefined) {
      const built: Attributes = { [ATTR.operation]: operation, [ATTR.name]: this.#name }
      if (result !== undefined) built[ATTR.result] = result
      if (layer !== undefined) built[ATTR.layer] = layer
      if (errorType !== undefined) built[ATTR.errorType] = errorType
      attributes = Object.freeze(built)
      byError.set(errorType ?? '', attributes)
    }
    return attributes
  }

  /** Stops observing the hit ratio. */
  dispose(): void {
    this.#hitRatio.removeCallback(this.#observe)
  }
}

function at<V>(map: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let inner = map.get(key)
  if (inner === undefined) map.set(key, (inner = new Map()))
  return inner
}

import type { CacheEventListener, CacheEventName, CacheEvents, CacheStats } from '@cachestack/core'

/** What `prometheusMetrics` needs of a stack: a root `CacheStack`, structurally (two copies of core both work). */
export interface MeasurableCache {
  /** The stack's `name` option: the `cache` label. */
  readonly name: string
  /** `''` for a root stack; a namespace view shares its root's figures. */
  readonly prefix: string
  getStats(): CacheStats
  on<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): unknown
  off<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): unknown
}

// Label values come from these closed sets, whatever a payload carries: a series per key or tag would
// grow without bound.
const STALE_REASONS = new Set<string>([
  'stale-while-revalidate',
  'grace',
  'timeout',
  'error',
  'backoff',
  'circuit-open',
])
const BUS_TYPES = new Set<string>([
  'delete',
  'set',
  'expire',
  'clear',
  'tags',
  'prefix',
  'pattern',
  'generation',
])

/** One bounded label value: itself when known, `'other'` otherwise. */
function bounded(value: unknown, known: ReadonlySet<string>): string {
  return typeof value === 'string' && known.has(value) ? value : 'other'
}

/** Counts by a small closed set of label tuples, joined with `\0`. */
class Tally {
  readonly counts = new Map<string, number>()
  add(key: string, by = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + by)
  }
}

/** Turns a counter that `resetMetrics()` may zero into one that only grows (Prometheus counters must). */
class Monotonic {
  #last = 0
  #total = 0
  update(value: number): number {
    // Below the last reading: the stack's counters were reset; everything since counts.
    this.#total += value >= this.#last ? value - this.#last : value
    this.#last = value
    return this.#total
  }
}

/** Monotonic readings of one stack's `getStats()` counters, by field (and layer). */
class Monotonics {
  readonly #by = new Map<string, Monotonic>()
  read(field: string, value: number): number {
    let counter = this.#by.get(field)
    if (counter === undefined) this.#by.set(field, (counter = new Monotonic()))
    return counter.update(value)
  }
}

/**
 * One measured stack: the events that are not on the hit path (stale serves, invalidations, bus
 * traffic, degradations) counted as they happen, and its `getStats()` read at scrape time.
 */
export class StackSource {
  readonly cache: MeasurableCache
  /** The `cache` label value. */
  readonly name: string
  /** `stale-serve` events by reason. */
  readonly staleServes = new Tally()
  /** Invalidations by `kind\0mode`. */
  readonly invalidations = new Tally()
  /** Bus messages by `direction\0type`. */
  readonly bus = new Tally()
  /** `layer-degraded` events by layer. */
  readonly degradations = new Tally()
  readonly #monotonics = new Monotonics()
  #stats: CacheStats | undefined
  readonly #listeners: [CacheEventName, (payload: never) => void][]

  constructor(cache: MeasurableCache) {
    this.cache = cache
    this.name = cache.name
    const onStale: CacheEventListener<'stale-serve'> = ({ reason }) =>
      this.staleServes.add(bounded(reason, STALE_REASONS))
    const onInvalidate: CacheEventListener<'invalidate'> = (event) =>
      this.invalidations.add(`${invalidationKind(event)}\0${event.mode === 'soft' ? 'soft' : 'hard'}`)
    const onClear: CacheEventListener<'clear'> = () => this.invalidations.add('clear\0hard')
    const onPublish: CacheEventListener<'bus-publish'> = ({ type }) =>
      this.bus.add(`published\0${bounded(type, BUS_TYPES)}`)
    const onReceive: CacheEventListener<'bus-receive'> = ({ type }) =>
      this.bus.add(`received\0${bounded(type, BUS_TYPES)}`)
    const onDegraded: CacheEventListener<'layer-degraded'> = ({ layer }) => this.degradations.add(layer)
    this.#listeners = [
      ['stale-serve', onStale],
      ['invalidate', onInvalidate],
      ['clear', onClear],
      ['bus-publish', onPublish],
      ['bus-receive', onReceive],
      ['layer-degraded', onDegraded],
    ] as [CacheEventName, (payload: never) => void][]
    for (const [event, listener] of this.#listeners) cache.on(event, listener as never)
  }

  /**
   * The stack's stats, read once per scrape: prom-client calls every metric's collect in one synchronous
   * loop, so they all share one `getStats()` (which sorts latency samples) and agree with each other.
   */
  stats(): CacheStats {
    if (this.#stats === undefined) {
      this.#stats = this.cache.getStats()
      queueMicrotask(() => {
        this.#stats = undefined
      })
    }
    return this.#stats
  }

  /** A `getStats()` counter as an ever-growing total (`field` names it uniquely, layer included). */
  total(field: string, value: number): number {
    return this.#monotonics.read(field, value)
  }

  /** Stops listening to the stack. */
  dispose(): void {
    for (const [event, listener] of this.#listeners) this.cache.off(event, listener as never)
  }
}

function invalidationKind(event: CacheEvents['invalidate']): string {
  if (event.tags !== undefined) return 'tags'
  if (event.prefix !== undefined) return 'prefix'
  if (event.pattern !== undefined) return 'pattern'
  return 'other'
}

import { type CacheStats, ValidationError } from '@cachestack/core'
import { Counter, Gauge, type Registry, type RegistryContentType } from 'prom-client'
import { DurationHistogram } from './duration-histogram.ts'
import type { NormalizedOptions } from './options.ts'
import type { StackSource } from './stack-source.ts'

type Set = (labels: Record<string, string>, value: number) => void
type Fill = (source: StackSource, set: Set) => void
type LayerStats = CacheStats['layers'][number]
type StackCount = { [K in keyof CacheStats]-?: CacheStats[K] extends number ? K : never }[keyof CacheStats]
type LayerCount = { [K in keyof LayerStats]-?: LayerStats[K] extends number ? K : never }[keyof LayerStats]

/** A stack-wide `getStats()` counter as an ever-growing total, unlabelled. */
const stackTotal =
  (field: StackCount): Fill =>
  (s, set) =>
    set({}, s.total(field, s.stats()[field]))

/** A per-layer `getStats()` counter as an ever-growing total, labelled by layer. */
const layerTotal =
  (field: LayerCount): Fill =>
  (s, set) => {
    for (const layer of s.stats().layers)
      set({ layer: layer.name }, s.total(`${field}:${layer.name}`, layer[field]))
  }

/**
 * The series of every stack measured in one registry under one prefix. Everything but the duration
 * histogram is computed at scrape time (`collect`) from the stacks' `getStats()` and event tallies, so
 * series of a stack that left disappear on the next scrape.
 */
export class Exporter {
  readonly sources = new Map<object, StackSource>()
  readonly durations: DurationHistogram | undefined
  readonly #registry: Registry<RegistryContentType>
  readonly #names: string[] = []

  constructor(options: NormalizedOptions) {
    this.#registry = options.registry
    try {
      this.durations = this.#define(options)
    } catch (error) {
      this.dispose() // none of ours stays behind half-registered
      throw error
    }
  }

  #define(options: NormalizedOptions): DurationHistogram | undefined {
    const p = options.prefix
    const counter = this.#counter.bind(this)
    const gauge = this.#gauge.bind(this)
    counter(
      `${p}hits_total`,
      'Reads answered from the cache, by the layer that answered (stale included)',
      ['layer'],
      layerTotal('hits'),
    )
    counter(
      `${p}stale_hits_total`,
      'Reads a layer answered with a stale entry (stale-while-revalidate, grace)',
      ['layer'],
      layerTotal('staleHits'),
    )
    counter(`${p}misses_total`, 'Reads no layer could answer', [], stackTotal('misses'))
    counter(
      `${p}layer_misses_total`,
      'Reads a layer could not answer (the next layer was asked)',
      ['layer'],
      layerTotal('misses'),
    )
    counter(`${p}layer_errors_total`, 'Failed layer operations', ['layer'], layerTotal('errors'))
    counter(`${p}stale_serves_total`, 'Stale values served, by reason', ['reason'], (s, set) => {
      for (const [reason, n] of s.staleServes.counts) set({ reason }, n)
    })
    counter(`${p}sets_total`, 'Entries written', [], stackTotal('sets'))
    counter(`${p}deletes_total`, 'Entries deleted', [], stackTotal('deletes'))
    counter(
      `${p}invalidations_total`,
      'Invalidations, by kind (tags, prefix, pattern, clear) and mode (hard, soft)',
      ['kind', 'mode'],
      (s, set) => {
        for (const [key, n] of s.invalidations.counts) {
          const [kind = '', mode = ''] = key.split('\0')
          set({ kind, mode }, n)
        }
      },
    )
    counter(
      `${p}factory_runs_total`,
      'Factory runs started (one per key however many callers waited)',
      [],
      stackTotal('factoryRuns'),
    )
    counter(`${p}factory_errors_total`, 'Factory runs that threw', [], stackTotal('factoryErrors'))
    counter(
      `${p}background_refreshes_total`,
      'Background refreshes started (stale-while-revalidate, refresh-ahead)',
      [],
      stackTotal('backgroundRefreshes'),
    )
    counter(
      `${p}coalesced_waiters_total`,
      'Reads that waited on a factory run another caller had started',
      [],
      stackTotal('coalesced'),
    )
    counter(
      `${p}bus_messages_total`,
      'Bus messages, by direction (published, received) and type',
      ['direction', 'type'],
      (s, set) => {
        for (const [key, n] of s.bus.counts) {
          const [direction = '', type = ''] = key.split('\0')
          set({ direction, type }, n)
        }
      },
    )
    counter(
      `${p}layer_degradations_total`,
      'Times a shared layer was taken out of the path after failing',
      ['layer'],
      (s, set) => {
        for (const [layer, n] of s.degradations.counts) set({ layer }, n)
      },
    )
    gauge(
      `${p}layer_degraded`,
      '1 while the layer is skipped after failures (graceful degradation)',
      ['layer'],
      (s, set) => {
        for (const layer of s.stats().layers) set({ layer: layer.name }, layer.degraded ? 1 : 0)
      },
    )
    gauge(
      `${p}layer_items`,
      'Entries held by a layer that can tell (the memory layer)',
      ['layer'],
      (s, set) => {
        for (const layer of s.stats().layers)
          if (layer.items !== undefined) set({ layer: layer.name }, layer.items)
      },
    )
    gauge(
      `${p}layer_bytes`,
      'Estimated bytes held by a memory layer with a byte budget',
      ['layer'],
      (s, set) => {
        for (const layer of s.stats().layers)
          if (layer.bytes !== undefined) set({ layer: layer.name }, layer.bytes)
      },
    )
    gauge(`${p}refreshes_in_flight`, 'Background refreshes running now', [], (s, set) =>
      set({}, s.stats().refreshesInFlight),
    )
    gauge(
      `${p}bus_connected`,
      '1 while the bus hears other instances (only stacks with a bus)',
      [],
      (s, set) => {
        const connected = s.stats().busConnected
        if (connected !== undefined) set({}, connected ? 1 : 0)
      },
    )
    if (options.durations) {
      const name = this.#claim(`${p}operation_duration_seconds`)
      return new DurationHistogram(
        this.#registry,
        name,
        'Duration of cache operations, by operation, result (hit, stale, miss, ok, error) and answering layer',
        options.buckets,
      )
    }
  }

  /** Removes every series of this exporter from the registry (the last stack left). */
  dispose(): void {
    for (const name of this.#names) this.#registry.removeSingleMetric(name)
  }

  /** Takes `name` for this exporter, or names the clash (someone else registered it). */
  #claim(name: string): string {
    if (this.#registry.getSingleMetric(name) !== undefined) {
      throw new ValidationError(
        `"${name}" is already registered in this registry (another metric of that name): choose another prefix`,
        'prefix',
      )
    }
    this.#names.push(name)
    return name
  }

  #counter(name: string, help: string, labels: string[], fill: Fill): void {
    const sources = this.sources
    this.#claim(name)
    new Counter({
      name,
      help,
      labelNames: ['cache', ...labels],
      registers: [this.#registry],
      collect() {
        this.reset()
        for (const source of sources.values())
          fill(source, (l, v) => this.inc({ cache: source.name, ...l }, v))
      },
    })
  }

  #gauge(name: string, help: string, labels: string[], fill: Fill): void {
    const sources = this.sources
    this.#claim(name)
    new Gauge({
      name,
      help,
      labelNames: ['cache', ...labels],
      registers: [this.#registry],
      collect() {
        this.reset()
        for (const source of sources.values())
          fill(source, (l, v) => this.set({ cache: source.name, ...l }, v))
      },
    })
  }
}

/** One exporter per registry and prefix: several stacks share its series, told apart by `cache`. */
const exporters = new WeakMap<Registry<RegistryContentType>, Map<string, Exporter>>()

/** The exporter of `options.registry` and `options.prefix`, made on first use. */
export function exporterFor(options: NormalizedOptions): Exporter {
  let byPrefix = exporters.get(options.registry)
  if (byPrefix === undefined) exporters.set(options.registry, (byPrefix = new Map()))
  let exporter = byPrefix.get(options.prefix)
  if (exporter === undefined) byPrefix.set(options.prefix, (exporter = new Exporter(options)))
  return exporter
}

/** Forgets an exporter no stack uses any more, and its series. */
export function releaseExporter(options: NormalizedOptions, exporter: Exporter): void {
  if (exporter.sources.size > 0) return
  exporter.dispose()
  exporters.get(options.registry)?.delete(options.prefix)
}

// The cost of @cachestack/prometheus on the fastest path there is: an in-memory hit. Rows: no metrics;
// prometheusMetrics with `durations: false` (every series read from getStats() and events at scrape
// time: nothing more on the hit path); prometheusMetrics with its default duration histogram (fed by the
// cachestack:operation channel, so each hit takes the traced read and one histogram observe). Each row
// measures the stack only while it runs. A second table: one scrape (registry.metrics()) of a stack.
// @cachestack/prometheus and prom-client are imported lazily, like the OpenTelemetry scenario's packages.
import { collectGarbage, measure, rotated, summarize } from '../harness.ts'
import { deepEqual, makeValue } from '../value.ts'
import type { Row, RunContext, ScenarioResult } from './types.ts'

const KEYS = 1_024
const KEY_NAMES = Array.from({ length: KEYS }, (_, i) => `hit:${i}`)

/** Contender names of the rows. */
export const PROMETHEUS_ROWS = {
  off: 'no metrics',
  scrapeOnly: 'prometheusMetrics, durations: false',
  durations: 'prometheusMetrics (duration histogram on)',
} as const

export async function prometheusScenarios(ctx: RunContext): Promise<ScenarioResult[]> {
  const { CacheStack, MemoryLayer } = await import('@cachestack/core')
  const { prometheusMetrics } = await import('@cachestack/prometheus')
  const { Registry } = await import('prom-client')

  const cache = new CacheStack([new MemoryLayer({ maxItems: 10_000 })])
  for (let i = 0; i < KEYS; i++) await cache.set(KEY_NAMES[i]!, makeValue(i))
  const read = (i: number) => cache.get(KEY_NAMES[i & (KEYS - 1)]!)
  const variants = [
    { name: PROMETHEUS_ROWS.off, start: () => () => {} },
    {
      name: PROMETHEUS_ROWS.scrapeOnly,
      start: () => prometheusMetrics(cache, { registry: new Registry(), durations: false }),
    },
    { name: PROMETHEUS_ROWS.durations, start: () => prometheusMetrics(cache, { registry: new Registry() }) },
  ]
  const rows = variants.map<Row>((variant) => ({
    contender: variant.name,
    kind: 'cachestack',
    status: 'ok',
    failures: [],
    samples: [],
  }))

  collectGarbage()
  for (let round = 0; round < ctx.rounds; round++) {
    for (const v of rotated([...variants.keys()], round)) {
      const variant = variants[v]!
      const row = rows[v]!
      if (row.status !== 'ok') continue
      collectGarbage('minor')
      const stop = variant.start()
      try {
        const sample = await measure(read, ctx.measure)
        row.samples.push(sample.nsPerOp)
        if (!deepEqual(await cache.get('hit:517'), makeValue(517)))
          Object.assign(row, { status: 'failed', failures: ['hit on hit:517 returned a wrong value'] })
      } finally {
        stop()
      }
    }
  }

  // One scrape of a measured stack that has served every kind of operation (all series present).
  const registry = new Registry()
  const stop = prometheusMetrics(cache, { registry })
  for (let i = 0; i < 64; i++) await read(i)
  await cache.get('absent')
  await cache.invalidateByTag('t')
  const scrape: Row = {
    contender: 'registry.metrics(), one stack',
    kind: 'cachestack',
    status: 'ok',
    failures: [],
    samples: [],
  }
  for (let round = 0; round < ctx.rounds; round++) {
    const sample = await measure(() => registry.metrics(), ctx.measure)
    scrape.samples.push(sample.nsPerOp)
  }
  stop()
  await cache.disconnect()

  return [
    {
      id: 'prometheus-hit',
      title: 'in-memory hit with @cachestack/prometheus',
      tier: 'memory',
      unit: 'ns/op',
      notes: [
        'durations: false adds no work per hit; the histogram row takes the traced read (a subscriber wants every hit) plus one observe',
      ],
      rows: rows.map((row) => (row.samples.length > 0 ? { ...row, summary: summarize(row.samples) } : row)),
    },
    {
      id: 'prometheus-scrape',
      title: 'one Prometheus scrape of a measured stack',
      tier: 'memory',
      unit: 'ns/op',
      notes: ['every counter and gauge is computed here, from one getStats() per stack'],
      rows: [{ ...scrape, summary: summarize(scrape.samples) }],
    },
  ]
}

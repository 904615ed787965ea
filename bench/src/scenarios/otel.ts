// The cost of @cachestack/otel on the fastest path there is: an in-memory hit. Rows: no instrumentation
// (in the same unsampled request span as the next row);
// instrumentCache with a tracer that samples nothing, reading inside a request span that was not sampled
// (how an app with that tracer runs), then with no span around the read at all, then with the SDK's
// meter; and an always-on tracer exporting to memory. Instrumentation is process-wide (one channel), so each
// row instruments the stack only while it is measured. @cachestack/otel and the SDK are imported here,
// lazily, so every scenario that runs before this one measures a process that never loaded them.
import { collectGarbage, measure, rotated, summarize } from '../harness.ts'
import { deepEqual, makeValue } from '../value.ts'
import type { Row, RunContext, ScenarioResult } from './types.ts'

const KEYS = 1_024
const KEY_NAMES = Array.from({ length: KEYS }, (_, i) => `hit:${i}`)
/** The in-memory exporter keeps every span: dropped every this many operations (amortized, ~0). */
const RESET_EVERY = 8_192

/** Contender names of the rows, also used by the targets. */
export const OTEL_ROWS = {
  off: 'no instrumentation',
  sampledOut: 'instrumentCache, sampler drops all (in an unsampled request span)',
  sampledOutRoot: 'instrumentCache, sampler drops all (no parent span)',
  sampledOutMetrics: 'instrumentCache, sampler drops all, SDK metrics',
  alwaysOn: 'instrumentCache, always on, in-memory exporter, SDK metrics',
} as const

export async function otelScenario(ctx: RunContext): Promise<ScenarioResult> {
  const { CacheStack, MemoryLayer } = await import('@cachestack/core')
  const { instrumentCache } = await import('@cachestack/otel')
  const { context, metrics, ROOT_CONTEXT, trace } = await import('@opentelemetry/api')
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks')
  const { AlwaysOffSampler, AlwaysOnSampler, InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } =
    await import('@opentelemetry/sdk-trace')
  const { MeterProvider, MetricReader } = await import('@opentelemetry/sdk-metrics')

  // As the Node SDK sets it up: the AsyncLocalStorage context manager, so spans really become active.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  class PullReader extends MetricReader {
    protected override async onForceFlush(): Promise<void> {}
    protected override async onShutdown(): Promise<void> {}
  }
  const meterProvider = new MeterProvider({ readers: [new PullReader()] })
  const sdkMeter = meterProvider.getMeter('bench')
  const noopMeter = metrics.getMeter('bench') // no global provider registered: the API's no-op meter
  const off = new TracerProvider({ sampler: new AlwaysOffSampler() })
  const exporter = new InMemorySpanExporter()
  const on = new TracerProvider({
    sampler: new AlwaysOnSampler(),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  })

  /** Runs the measurement inside a request span of `tracer`, as a server's instrumentation would. */
  const inRequest =
    (tracer: ReturnType<typeof off.getTracer>) =>
    <T>(work: () => Promise<T>): Promise<T> => {
      const request = tracer.startSpan('GET /bench', {}, ROOT_CONTEXT)
      return context.with(trace.setSpan(ROOT_CONTEXT, request), work).finally(() => request.end())
    }
  const bare = <T>(work: () => Promise<T>): Promise<T> => work()
  const offTracer = off.getTracer('bench')
  const onTracer = on.getTracer('bench')

  const cache = new CacheStack([new MemoryLayer({ maxItems: 10_000 })])
  for (let i = 0; i < KEYS; i++) await cache.set(KEY_NAMES[i]!, makeValue(i))
  const read = (i: number) => cache.get(KEY_NAMES[i & (KEYS - 1)]!)
  const variants = [
    // The same request span as the sampled-out row: an awaited loop inside an async context costs a
    // little more than one outside, and that is not instrumentation's doing.
    { name: OTEL_ROWS.off, start: () => () => {}, around: inRequest(offTracer), op: read },
    {
      name: OTEL_ROWS.sampledOut,
      start: () => instrumentCache(cache, { tracer: offTracer, meter: noopMeter }),
      around: inRequest(offTracer),
      op: read,
    },
    {
      name: OTEL_ROWS.sampledOutRoot,
      start: () => instrumentCache(cache, { tracer: offTracer, meter: noopMeter }),
      around: bare,
      op: read,
    },
    {
      name: OTEL_ROWS.sampledOutMetrics,
      start: () => instrumentCache(cache, { tracer: offTracer, meter: sdkMeter }),
      around: inRequest(offTracer),
      op: read,
    },
    {
      name: OTEL_ROWS.alwaysOn,
      start: () => instrumentCache(cache, { tracer: onTracer, meter: sdkMeter }),
      around: inRequest(onTracer),
      op: (i: number) => {
        if ((i & (RESET_EVERY - 1)) === 0) exporter.reset()
        return read(i)
      },
    },
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
        const sample = await variant.around(() => measure(variant.op, ctx.measure))
        row.samples.push(sample.nsPerOp)
        // Checked under the same instrumentation: a hit still answers the stored record.
        if (!deepEqual(await cache.get('hit:517'), makeValue(517)))
          Object.assign(row, { status: 'failed', failures: ['hit on hit:517 returned a wrong value'] })
      } finally {
        stop()
        exporter.reset()
      }
    }
  }
  await cache.disconnect()
  await Promise.all([off.shutdown(), on.shutdown(), meterProvider.shutdown()])

  return {
    id: 'otel-hit',
    title: 'in-memory hit with @cachestack/otel',
    tier: 'memory',
    unit: 'ns/op',
    notes: [
      'instrumented rows take the traced read (a subscriber wants every hit), not the synchronous fast path',
    ],
    rows: rows.map((row) => (row.samples.length > 0 ? { ...row, summary: summarize(row.samples) } : row)),
  }
}

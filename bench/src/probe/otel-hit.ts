// The otel-hit scenario as a probe: in-memory hits inside an unsampled request span, uninstrumented
// and with instrumentCache (a sampler that drops all, the API's no-op meter), as the bench sets it up.
// node --expose-gc --conditions=@cachestack/source src/probe/otel-hit.ts ab [rounds] [batch]
//   alternates batches of the two (instrumenting only while its batch runs) and prints the medians and
//   the median of the per-round ratios sampled-out / uninstrumented (the issue 14 target: <= 1.5).
// node --conditions=@cachestack/source src/probe/otel-hit.ts <off|sampled> <n>
//   a loop of n hits of one row, for --cpu-prof and callgrind.
import { CacheStack, MemoryLayer } from '@cachestack/core'
import { instrumentCache } from '@cachestack/otel'
import { context, metrics, ROOT_CONTEXT, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { AlwaysOffSampler, TracerProvider } from '@opentelemetry/sdk-trace'
import { makeValue } from '../value.ts'

const mode = process.argv[2] ?? 'ab'
const KEYS = 1024
const keys = Array.from({ length: KEYS }, (_, i) => `hit:${i}`)
const median = (v: number[]) => v.slice().sort((a, b) => a - b)[Math.floor(v.length / 2)]!

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
const tracer = new TracerProvider({ sampler: new AlwaysOffSampler() }).getTracer('probe')
const meter = metrics.getMeter('probe')
const cache = new CacheStack([new MemoryLayer({ maxItems: 10_000 })])
for (let i = 0; i < KEYS; i++) await cache.set(keys[i]!, makeValue(i))
const instrument = () => instrumentCache(cache, { tracer, meter })

/** Runs `work` inside a request span the sampler dropped, as a server's instrumentation would. */
function inRequest<T>(work: () => Promise<T>): Promise<T> {
  const request = tracer.startSpan('GET /probe', {}, ROOT_CONTEXT)
  return context.with(trace.setSpan(ROOT_CONTEXT, request), work).finally(() => request.end())
}

async function timeBatch(n: number): Promise<number> {
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) await cache.get(keys[i & (KEYS - 1)]!)
  return Number(process.hrtime.bigint() - t0) / n
}

if (mode === 'ab') {
  const rounds = Number(process.argv[3] ?? 41)
  const batch = Number(process.argv[4] ?? 20_000)
  const rows = [() => () => {}, instrument]
  const times: number[][] = [[], []]
  for (let r = -5; r < rounds; r++) {
    for (let k = 0; k < 2; k++) {
      const j = (k + r + 5) % 2
      ;(globalThis as { gc?: (o: object) => void }).gc?.({ type: 'minor' })
      const stop = rows[j]!()
      const t = await inRequest(() => timeBatch(batch))
      stop()
      if (r >= 0) times[j]!.push(t)
    }
  }
  const perRound = times[1]!.map((t, r) => t / times[0]![r]!)
  console.log(
    `otel-hit: uninstrumented ${median(times[0]!).toFixed(1)} ns, sampled out ${median(times[1]!).toFixed(1)} ns; ` +
      `sampled-out/uninstrumented ${median(perRound).toFixed(3)} (best ${Math.min(...perRound).toFixed(3)})`,
  )
} else {
  const n = Number(process.argv[3] ?? 100_000)
  if (mode === 'sampled') instrument()
  const t = await inRequest(() => timeBatch(n))
  console.log(`${mode}: ${t.toFixed(0)} ns/hit`)
}
await cache.disconnect()

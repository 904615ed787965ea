// One heap measurement in a fresh process (spawned by scenarios/heap.ts), so no other contender's
// garbage or lingering timers can land in the numbers. Prints one JSON line.
import type { Contender } from './contenders/index.ts'
import { collectGarbage } from './harness.ts'
import type { BenchRedis } from './redis-server.ts'
import { deepEqual, makeValue } from './value.ts'

const [name, countArg] = process.argv.slice(2)
const entries = Number(countArg)
// Only the measured library is loaded: a child starts in ~0.3 s instead of ~2 s with all of them.
const loaders: Record<string, () => Promise<Contender>> = {
  cachestack: async () => (await import('./contenders/cachestack.ts')).cachestackContender(),
  'cachestack (values: reference)': async () =>
    (await import('./contenders/cachestack.ts')).cachestackContender({ values: 'reference' }),
  bentocache: async () => (await import('./contenders/bentocache.ts')).bentocacheContender,
  'cache-manager': async () => (await import('./contenders/cache-manager.ts')).cacheManagerContender,
  cacheable: async () => (await import('./contenders/cacheable.ts')).cacheableContender,
  Map: async () => (await import('./contenders/baselines.ts')).mapBaseline,
  'lru-cache': async () => (await import('./contenders/baselines.ts')).lruBaseline,
}
const contender = name === undefined ? undefined : await loaders[name]?.()
if (!contender || !Number.isInteger(entries) || entries < 1) {
  throw new Error(`usage: heap-child.ts <contender name> <entries>; got ${name} ${countArg}`)
}
const noRedis = new Proxy({} as BenchRedis, {
  get() {
    throw new Error('the heap scenario runs without Redis')
  },
})

const adapter = await contender.create(
  'memory',
  { redis: noRedis, ttlMs: 10 * 60_000 },
  {
    prefix: 'heap',
    maxItems: entries * 2,
  },
)
// Warm the code paths on a few keys, then remove them, so compiled code is not counted as data.
for (let i = 0; i < 100; i++) await adapter.set(`warm:${i}`, makeValue(i))
await adapter.clear()
collectGarbage()
await new Promise((r) => setTimeout(r, 20))
collectGarbage()
const before = process.memoryUsage().heapUsed
const t0 = performance.now()
for (let i = 0; i < entries; i++) await adapter.set(`heap:${i}`, makeValue(i))
const writeMs = performance.now() - t0
collectGarbage()
await new Promise((r) => setTimeout(r, 20))
collectGarbage()
const after = process.memoryUsage().heapUsed
const failures: string[] = []
for (const i of [0, entries >> 1, entries - 1]) {
  if (!deepEqual(await adapter.get(`heap:${i}`), makeValue(i))) failures.push(`entry ${i} was not held`)
}
console.log(JSON.stringify({ bytesPerEntry: (after - before) / entries, writeMs, failures }))
process.exit(0)

// Bytes allocated on the JS heap per getOrSet miss on Redis (ours, per checkout) and per raw GET + SET PX:
// the heap's growth over blocks of 200 calls (a large young generation, so that no GC runs in most blocks).
// node --expose-gc --max-semi-space-size=64 --conditions=@cachestack/source src/probe/miss-alloc.ts DIR...
import v8 from 'node:v8'
import { Redis } from 'ioredis'
import { summarize } from '../harness.ts'
import { makeValue } from '../value.ts'

const port = Number(process.env.PROBE_REDIS_PORT ?? 6391)
const value = makeValue(7)
const factory = async () => value
const run = Date.now().toString(36)
let seq = 0
const modes: [string, () => Promise<unknown>][] = []
for (const [n, dir] of process.argv.slice(2).entries()) {
  const core = await import(`${dir}/src/index.ts`)
  const layers = [new core.RedisLayer({ client: new Redis({ port }), prefix: `al${n}:` })]
  if (process.env.TIER === 'two-tier') layers.unshift(new core.MemoryLayer({ maxItems: 1_000_000 }))
  const stack = new core.CacheStack(layers, {
    ttl: 600_000,
    ...(process.env.WB ? { writeStrategy: 'write-behind' } : {}),
  })
  modes.push([dir, () => stack.getOrSet(`${run}:${seq++}`, factory)])
}
const raw = new Redis({ port })
modes.push([
  'raw GET + SET PX',
  async () => {
    const k = `r:${run}:${seq++}`
    if ((await raw.get(k)) === null) await raw.set(k, JSON.stringify(value), 'PX', 600_000)
  },
])
const per: number[][] = modes.map(() => [])
for (let round = 0; round < 40; round++) {
  for (const [j, [, op]] of modes.entries()) {
    for (let i = 0; i < 50; i++) await op()
    ;(globalThis as { gc?: () => void }).gc?.()
    await new Promise((r) => setImmediate(r))
    const h0 = v8.getHeapStatistics().used_heap_size
    for (let i = 0; i < 200; i++) await op()
    const h1 = v8.getHeapStatistics().used_heap_size
    await new Promise((r) => setImmediate(r))
    // A scavenge inside the block shrinks the heap: such a block is thrown away.
    if (h1 > h0 && round >= 3) per[j]!.push((h1 - h0) / 200)
  }
}
for (const [j, [name]] of modes.entries()) {
  const s = per[j]!.length > 0 ? summarize(per[j]!).median : Number.NaN
  console.log(`${name.padEnd(36)} ${s.toFixed(0).padStart(6)} B/call  (${per[j]!.length} clean blocks)`)
}
process.exit(0)

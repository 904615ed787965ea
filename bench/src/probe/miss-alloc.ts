// Bytes allocated on the JS heap per getOrSet miss on Redis (ours, per checkout) and per raw GET + SET PX:
// the heap's growth over blocks of 200 calls (a large young generation, so that no GC runs in most blocks).
// node --expose-gc --max-semi-space-size=64 --conditions=@cachestack/source src/probe/miss-alloc.ts DIR...
import v8 from 'node:v8'
import { summarize } from '../harness.ts'
import { makeValue } from '../value.ts'
import { checkoutMisses } from './checkout-misses.ts'

const { modes } = await checkoutMisses(process.argv.slice(2), makeValue(7), {
  port: Number(process.env.PROBE_REDIS_PORT ?? 6391),
  twoTier: process.env.TIER === 'two-tier',
  writeBehind: process.env.WB !== undefined,
})
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

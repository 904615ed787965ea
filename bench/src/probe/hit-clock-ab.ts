// Interleaved A/B of L1 hits on the system clock (hits may reuse a recent reading) and on an injected
// clock that is Date.now (read on every hit, as every hit did before), next to an awaited lru-cache
// get (ttl 10 min, as in the bench): node --expose-gc --conditions=@cachestack/source
// src/probe/hit-clock-ab.ts [rounds] [batch]. Prints medians and the median per-round ratios.
import { CacheStack, MemoryLayer } from '@cachestack/core'
import { LRUCache } from 'lru-cache'
import { makeValue } from '../value.ts'

const rounds = Number(process.argv[2] ?? 41)
const batch = Number(process.argv[3] ?? 20_000)
const KEYS = 1024
const keys = Array.from({ length: KEYS }, (_, i) => `hit:${i}`)
const ttl = 600_000
const median = (v: number[]) => v.slice().sort((a, b) => a - b)[Math.floor(v.length / 2)]!

const recent = new CacheStack([new MemoryLayer({ maxItems: 200_000 })], { ttl })
const exact = new CacheStack([new MemoryLayer({ maxItems: 200_000 })], {
  ttl,
  clock: { now: () => Date.now() },
})
const lru = new LRUCache<string, object>({ max: 200_000, ttl })
for (let i = 0; i < KEYS; i++) {
  await recent.set(keys[i]!, makeValue(i))
  await exact.set(keys[i]!, makeValue(i))
  lru.set(keys[i]!, makeValue(i))
}
type Op = (key: string) => unknown
const ops: [string, Op][] = [
  ['system clock', (key) => recent.get(key)],
  ['exact clock', (key) => exact.get(key)],
  ['lru-cache', (key) => lru.get(key)],
]
async function timeBatch(op: Op): Promise<number> {
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < batch; i++) await op(keys[i & (KEYS - 1)]!)
  return Number(process.hrtime.bigint() - t0) / batch
}
const times: number[][] = ops.map(() => [])
for (let r = -5; r < rounds; r++) {
  for (let k = 0; k < ops.length; k++) {
    const j = (k + r + 5) % ops.length
    ;(globalThis as { gc?: (o: object) => void }).gc?.({ type: 'minor' })
    const t = await timeBatch(ops[j]![1])
    if (r >= 0) times[j]!.push(t)
  }
}
const ratio = (a: number, b: number) => median(times[a]!.map((t, r) => t / times[b]![r]!)).toFixed(3)
console.log(
  `${ops.map(([name], j) => `${name} ${median(times[j]!).toFixed(1)} ns`).join(', ')}; ` +
    `lru/system ${ratio(2, 0)}, lru/exact ${ratio(2, 1)}, system/exact ${ratio(0, 1)}`,
)
await Promise.all([recent.disconnect(), exact.disconnect()])

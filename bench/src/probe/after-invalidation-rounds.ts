// The bench's first-read-after-invalidation rounds on memory + Redis (400 tagged entries written, read,
// their tag invalidated; then each is read with getOrSet beside a plain miss), in one process beside the
// raw floor (GET of a 1.1 KB payload + SET vs GET nil + SET), in the order ORDER chooses (below),
// medians of per-round medians.
// With `delredis` the Redis copies are deleted after the invalidation, which leaves only the dead L1 copy:
// [ORDER=rotate|fixed|blocks] node --expose-gc --conditions=@cachestack/source src/probe/after-invalidation-rounds.ts [delredis]
// (needs a redis-server on PROBE_REDIS_PORT, default 6391).
import { CacheStack, MemoryLayer, RedisLayer } from '@cachestack/core'
import { Redis } from 'ioredis'
import { makeValue } from '../value.ts'

const client = new Redis({ port: Number(process.env.PROBE_REDIS_PORT ?? 6391) })
const prefix = `z2${Date.now()}:`
const cache = new CacheStack([new MemoryLayer({ maxItems: 200_000 }), new RedisLayer({ client, prefix })], {
  ttl: 600_000,
})
const old = makeValue(3),
  fresh = makeValue(9)
const factory = async () => fresh
const payload = 'x'.repeat(1100)
const A: number[] = [],
  P: number[] = [],
  RA: number[] = [],
  RP: number[] = []
// Main-thread CPU time of the same calls (µs), for first reads and plain misses.
const CA: number[] = [],
  CP: number[] = []
const med = (v: Float64Array | number[]) => [...v].sort((x, y) => x - y)[v.length >> 1]!
for (let r = 0; r < 30; r++) {
  await Promise.all(
    Array.from({ length: 400 }, (_, i) => cache.set(`ai:${r}:${i}`, old, { tags: [`ai:${r}`] })),
  )
  for (let i = 0; i < 400; i++) await cache.get(`ai:${r}:${i}`)
  await cache.invalidateByTag(`ai:${r}`)
  if (process.argv[2] === 'delredis') for (let i = 0; i < 400; i++) await client.del(`${prefix}ai:${r}:${i}`)
  ;(globalThis as any).gc({ type: 'minor' })
  const ca = new Float64Array(400),
    cp = new Float64Array(400)
  const a = new Float64Array(400),
    p = new Float64Array(400),
    ra = new Float64Array(400),
    rp = new Float64Array(400)
  for (let i = 0; i < 400; i++) await client.set(`rawold:${r}:${i}`, payload)
  const ops: [Float64Array, (i: number) => Promise<unknown>][] = [
    [a, (i) => cache.getOrSet(`ai:${r}:${i}`, factory)],
    [p, (i) => cache.getOrSet(`pm:${r}:${i}`, factory)],
    [
      ra,
      async (i) => {
        await client.get(`rawold:${r}:${i}`)
        await client.set(`rawold:${r}:${i}`, payload, 'PX', 600000)
      },
    ],
    [
      rp,
      async (i) => {
        await client.get(`rawnew:${r}:${i}`)
        await client.set(`rawnew:${r}:${i}`, payload, 'PX', 600000)
      },
    ],
  ]
  // ORDER=rotate (default): the four calls per key in an order that rotates per key (a call right after
  // another on the same connection can run faster); fixed: always first read, plain miss, raw old, raw
  // nothing; blocks: as the bench scenario, ours (first read, plain miss) for every key, then the floor's.
  const order = process.env.ORDER ?? 'rotate'
  // Each call is [key index, operation index].
  const call = (i: number, k: number): [number, number] => [i, k]
  const sequences: [number, number][][] =
    order === 'blocks'
      ? [0, 1].map((block) =>
          Array.from({ length: 400 }, (_, i) => [call(i, 2 * block), call(i, 2 * block + 1)]).flat(),
        )
      : [
          Array.from({ length: 400 }, (_, i) =>
            [0, 1, 2, 3].map((k) => call(i, order === 'fixed' ? k : (i + k) % 4)),
          ).flat(),
        ]
  for (const sequence of sequences) {
    for (const [i, k] of sequence) {
      const [times, op] = ops[k]!
      const c = process.threadCpuUsage()
      const t = performance.now()
      await op(i)
      times[i] = performance.now() - t
      const used = process.threadCpuUsage(c)
      if (k < 2) (k === 0 ? ca : cp)[i] = used.user + used.system
    }
  }
  if (r >= 5) {
    A.push(med(a))
    P.push(med(p))
    RA.push(med(ra))
    RP.push(med(rp))
    CA.push(med(ca))
    CP.push(med(cp))
  }
}
console.log(
  `two-tier: after ${(med(A) * 1000).toFixed(1)} plain ${(med(P) * 1000).toFixed(1)} ratio ${(med(A) / med(P)).toFixed(3)}; raw GET(1.1 KB)+SET ${(med(RA) * 1000).toFixed(1)} GET nil+SET ${(med(RP) * 1000).toFixed(1)} ratio ${(med(RA) / med(RP)).toFixed(3)}; main-thread CPU after ${med(CA).toFixed(1)} plain ${med(CP).toFixed(1)} µs`,
)
await cache.disconnect()
client.disconnect()

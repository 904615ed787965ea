// Memory + Redis: first getOrSet after invalidateByTag vs a plain miss, one call of each after the other,
// beside the raw floor of each (GET of the old ~1 KB value + SET vs GET nil + SET), medians of per-round
// medians: node --conditions=@cachestack/source src/probe/after-invalidation-redis.ts [rounds]
import { CacheStack, MemoryLayer, RedisLayer } from '@cachestack/core'
import { Redis } from 'ioredis'
import { makeValue } from '../value.ts'

const client = new Redis({ port: Number(process.env.PROBE_REDIS_PORT ?? 6391) })
const raw = new Redis({ port: Number(process.env.PROBE_REDIS_PORT ?? 6391) })
const cache = new CacheStack(
  [new MemoryLayer({ maxItems: 1000000 }), new RedisLayer({ client, prefix: 'aab:' })],
  { ttl: 600000 },
)
const old = makeValue(3),
  fresh = makeValue(9)
const factory = async () => fresh
const freshJson = JSON.stringify(fresh),
  oldJson = JSON.stringify(old)
const rounds = Number(process.argv[2] ?? 30),
  N = 200
const cA: number[] = [],
  cP: number[] = [],
  rA: number[] = [],
  rP: number[] = []
const med = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < N; i++) await cache.set(`a:${r}:${i}`, old, { tags: [`t${r}`] })
  for (let i = 0; i < N; i++) await cache.get(`a:${r}:${i}`)
  await cache.invalidateByTag(`t${r}`)
  for (let i = 0; i < N; i++) await raw.set(`raw:a:${r}:${i}`, oldJson)
  const a: number[] = [],
    p: number[] = [],
    ra: number[] = [],
    rp: number[] = []
  const ops: [number[], (i: number) => Promise<unknown>][] = [
    [a, (i) => cache.getOrSet(`a:${r}:${i}`, factory)],
    [p, (i) => cache.getOrSet(`p:${r}:${i}`, factory)],
    [
      ra,
      async (i) => {
        await raw.get(`raw:a:${r}:${i}`)
        await raw.set(`raw:a:${r}:${i}`, freshJson, 'PX', 600000)
      },
    ],
    [
      rp,
      async (i) => {
        await raw.get(`raw:p:${r}:${i}`)
        await raw.set(`raw:p:${r}:${i}`, freshJson, 'PX', 600000)
      },
    ],
  ]
  // The order rotates per key: an operation right after one on the same connection runs faster.
  for (let i = 0; i < N; i++) {
    for (let k = 0; k < ops.length; k++) {
      const [times, op] = ops[(i + k) % ops.length]!
      const t = performance.now()
      await op(i)
      times.push(performance.now() - t)
    }
  }
  if (r > 2) {
    cA.push(med(a))
    cP.push(med(p))
    rA.push(med(ra))
    rP.push(med(rp))
  }
}
const us = (v: number[]) => (med(v) * 1000).toFixed(1)
console.log(
  `cachestack after ${us(cA)} µs plain ${us(cP)} µs ratio ${(med(cA) / med(cP)).toFixed(3)}; raw GET(old)+SET ${us(rA)} µs GET nil+SET ${us(rP)} µs ratio ${(med(rA) / med(rP)).toFixed(3)}; oldJson ${oldJson.length} B`,
)
await cache.disconnect()
client.disconnect()
raw.disconnect()

// Interleaved A/B of getOrSet misses: cachestack vs raw ioredis GET + SET PX, same process, same Redis.
// node --conditions=@cachestack/source src/probe/miss-ab.ts <tier> [rounds] [batch]

import { CacheStack, MemoryLayer, RedisLayer } from '@cachestack/core'
import { Redis } from 'ioredis'

const tier = process.argv[2] ?? 'redis'
const rounds = Number(process.argv[3] ?? 15)
const batch = Number(process.argv[4] ?? 2000)
const port = Number(process.env.PROBE_REDIS_PORT ?? 6391)
const client = new Redis({ port })
const rawClient = new Redis({ port })
await Promise.all([client.ping(), rawClient.ping()])
const layers: any[] = []
if (tier !== 'redis') layers.push(new MemoryLayer({ maxItems: 1_000_000 }))
if (tier !== 'memory') layers.push(new RedisLayer({ client, prefix: 'ab:' }))
const cache = new CacheStack(layers, {
  ttl: 600000,
  ...(process.env.WB ? { writeStrategy: 'write-behind' } : {}),
})
const value = { id: 1, name: 'x'.repeat(900) }
const factory = async () => value
let seq = 0
const n = rounds * batch
const oursOp = async () => {
  const t0 = performance.now()
  await cache.getOrSet(`o:${seq++}`, factory)
  return performance.now() - t0
}
const rawOp = async () => {
  const t0 = performance.now()
  const k = `r:${seq++}`
  const r = await rawClient.get(k)
  if (r === null) await rawClient.set(k, JSON.stringify(value), 'PX', 600000)
  return performance.now() - t0
}
for (let i = 0; i < 2000; i++) {
  await oursOp()
  await rawOp()
}
// Alternating single operations: a burst of load hits both sides alike; medians of single latencies.
const a = new Float64Array(n)
const b = new Float64Array(n)
for (let i = 0; i < n; i++) {
  if (i & 1) {
    b[i] = await rawOp()
    a[i] = await oursOp()
  } else {
    a[i] = await oursOp()
    b[i] = await rawOp()
  }
}
const q = (v: Float64Array, p: number) => v.slice().sort()[Math.floor(v.length * p)]! * 1000
console.log(
  `${tier}${process.env.WB ? ' write-behind' : ''}: ours p50 ${q(a, 0.5).toFixed(1)} µs, raw p50 ${q(b, 0.5).toFixed(1)} µs, ratio p50 ${(q(a, 0.5) / q(b, 0.5)).toFixed(3)}, p25 ${(q(a, 0.25) / q(b, 0.25)).toFixed(3)}`,
)
await cache.disconnect()
await client.quit()
await rawClient.quit()
process.exit(0)

// A getOrSet-miss loop for CPU profiles and callgrind: node --cpu-prof src/probe/miss-loop.ts <tier> [n]

import { CacheStack, MemoryLayer, RedisLayer } from '@cachestack/core'
import { Redis } from 'ioredis'

const tier = process.argv[2] ?? 'redis'
const n = Number(process.argv[3] ?? 20000)
const mode = process.argv[4] ?? 'ours'
const client = new Redis({ port: Number(process.env.PROBE_REDIS_PORT ?? 6391) })
await client.ping()
const layers: any[] = []
if (tier !== 'redis')
  layers.push(new MemoryLayer({ maxItems: 1_000_000, values: process.env.REF ? 'reference' : 'frozen-copy' }))
if (tier !== 'memory') layers.push(new RedisLayer({ client, prefix: 'loop:' }))
const cache = new CacheStack(layers, {
  ttl: 600000,
  ...(process.env.WB ? { writeStrategy: 'write-behind' } : {}),
})
const value = { id: 1, name: 'x'.repeat(900) }
const factory = async () => value
const run = Date.now()
const map = new Map<string, unknown>()
const t0 = performance.now()
for (let i = 0; i < n; i++) {
  const k = `m:${run}:${i}`
  if (mode === 'map') {
    if (!map.has(k)) map.set(k, await factory())
  } else if (mode === 'raw') {
    const r = await client.get(k)
    if (r === null) await client.set(k, JSON.stringify(value), 'PX', 600000)
  } else await cache.getOrSet(k, factory)
}
const t1 = performance.now()
console.log(`${tier} ${mode}: ${(((t1 - t0) / n) * 1000).toFixed(2)} µs/miss`)
await cache.disconnect()
await client.quit()

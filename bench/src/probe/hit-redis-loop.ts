// A loop of Redis-only hits for `node --cpu-prof` or callgrind, next to the same loop of raw GET +
// JSON.parse: node --conditions=@cachestack/source src/probe/hit-redis-loop.ts <ours|raw> <n>
// (needs a redis-server on PROBE_REDIS_PORT, default 6391).
import { CacheStack, RedisLayer } from '@cachestack/core'
import { Redis } from 'ioredis'
import { makeValue } from '../value.ts'

const mode = process.argv[2] ?? 'ours'
const n = Number(process.argv[3] ?? 20_000)
const port = Number(process.env.PROBE_REDIS_PORT ?? 6391)
const keys = Array.from({ length: 1024 }, (_, i) => `hit:${i}`)
const client = new Redis({ port })
await client.ping()
const cache = new CacheStack([new RedisLayer({ client, prefix: 'hitloop:' })], { ttl: 600_000 })
for (let i = 0; i < 1024; i++) {
  await cache.set(keys[i]!, makeValue(i))
  await client.set(`rawloop:${keys[i]}`, JSON.stringify(makeValue(i)), 'PX', 600_000)
}
const raw = async (key: string) => {
  const text = await client.get(`rawloop:${key}`)
  return text === null ? undefined : JSON.parse(text)
}
const get = mode === 'raw' ? raw : (key: string) => cache.get(key)
const t0 = performance.now()
for (let i = 0; i < n; i++) await get(keys[i & 1023]!)
console.log(`${mode}: ${(((performance.now() - t0) / n) * 1e3).toFixed(1)} µs/hit`)
await cache.disconnect()
await client.quit()

// Interleaved A/B of hits, same process: cachestack next to its floor, set up as in the bench.
// node --expose-gc --conditions=@cachestack/source src/probe/hit-ab.ts <memory|redis> [rounds] [batch]
//   memory: batches of awaited L1 hits, cachestack vs lru-cache (max 200,000, ttl 10 min) vs Map;
//   redis: single hits alternating, cachestack (RedisLayer only) vs raw GET + JSON.parse
//   (needs a redis-server on PROBE_REDIS_PORT, default 6391).
// Prints medians and the median of the per-round ratios (robust on a loaded machine).
import { CacheStack, MemoryLayer, RedisLayer } from '@cachestack/core'
import { Redis } from 'ioredis'
import { LRUCache } from 'lru-cache'
import { makeValue } from '../value.ts'

const tier = process.argv[2] ?? 'memory'
const rounds = Number(process.argv[3] ?? 41)
const batch = Number(process.argv[4] ?? (tier === 'memory' ? 20_000 : 400))
const KEYS = 1024
const keys = Array.from({ length: KEYS }, (_, i) => `hit:${i}`)
const ttl = 600_000
const median = (v: number[]) => v.slice().sort((a, b) => a - b)[Math.floor(v.length / 2)]!

type Op = (key: string) => unknown
async function timeBatch(op: Op, n: number): Promise<number> {
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) await op(keys[i & (KEYS - 1)]!)
  return Number(process.hrtime.bigint() - t0) / n
}

async function compare(ours: Op, floors: Record<string, Op>) {
  const names = ['cachestack', ...Object.keys(floors)]
  const ops = [ours, ...Object.values(floors)]
  for (let w = 0; w < 5; w++) for (const op of ops) await timeBatch(op, batch)
  const times: number[][] = names.map(() => [])
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < ops.length; k++) {
      const j = (k + r) % ops.length
      ;(globalThis as { gc?: (o: object) => void }).gc?.({ type: 'minor' })
      times[j]!.push(await timeBatch(ops[j]!, batch))
    }
  }
  const ours50 = median(times[0]!)
  const parts = names.map((name, j) => `${name} ${median(times[j]!).toFixed(1)} ns`)
  const ratios = names.slice(1).map((name, j) => {
    const perRound = times[0]!.map((t, r) => times[j + 1]![r]! / t)
    return `${name}/cachestack ${median(perRound).toFixed(3)} (best ${Math.max(...perRound).toFixed(3)})`
  })
  console.log(`${tier}: ${parts.join(', ')}; ratios: ${ratios.join(', ')}; ours p50 ${ours50.toFixed(1)}`)
}

if (tier === 'memory') {
  const cache = new CacheStack([new MemoryLayer({ maxItems: 200_000 })], { ttl })
  const lru = new LRUCache<string, object>({ max: 200_000, ttl })
  const map = new Map<string, object>()
  for (let i = 0; i < KEYS; i++) {
    await cache.set(keys[i]!, makeValue(i))
    lru.set(keys[i]!, makeValue(i))
    map.set(keys[i]!, makeValue(i))
  }
  await compare((key) => cache.get(key), { 'lru-cache': (key) => lru.get(key), Map: (key) => map.get(key) })
} else {
  const port = Number(process.env.PROBE_REDIS_PORT ?? 6391)
  const client = new Redis({ port })
  const raw = new Redis({ port })
  await Promise.all([client.ping(), raw.ping()])
  const cache = new CacheStack([new RedisLayer({ client, prefix: 'hitab:' })], { ttl })
  for (let i = 0; i < KEYS; i++) {
    await cache.set(keys[i]!, makeValue(i))
    await raw.set(`rawab:${keys[i]}`, JSON.stringify(makeValue(i)), 'PX', ttl)
  }
  const rawGet = async (key: string) => {
    const text = await raw.get(`rawab:${key}`)
    return text === null ? undefined : JSON.parse(text)
  }
  await compare((key) => cache.get(key), { 'GET+JSON.parse': rawGet })
  await cache.disconnect()
  await client.quit()
  await raw.quit()
}

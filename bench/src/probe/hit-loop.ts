// An L1 hit loop for callgrind: node --conditions=@cachestack/source src/probe/hit-loop.ts <ours|lru> <n>
import { CacheStack, MemoryLayer } from '@cachestack/core'
import { LRUCache } from 'lru-cache'
import { makeValue } from '../value.ts'

const mode = process.argv[2] ?? 'ours'
const n = Number(process.argv[3] ?? 100_000)
const keys = Array.from({ length: 1024 }, (_, i) => `hit:${i}`)
const cache = new CacheStack([new MemoryLayer({ maxItems: 200_000 })], { ttl: 600_000 })
const lru = new LRUCache<string, object>({ max: 200_000, ttl: 600_000 })
for (let i = 0; i < 1024; i++) {
  await cache.set(keys[i]!, makeValue(i))
  lru.set(keys[i]!, makeValue(i))
}
const get = mode === 'lru' ? (key: string) => lru.get(key) : (key: string) => cache.get(key)
const t0 = performance.now()
for (let i = 0; i < n; i++) await get(keys[i & 1023]!)
console.log(`${mode}: ${(((performance.now() - t0) / n) * 1e6).toFixed(0)} ns/hit`)

// First getOrSet after invalidateByTag vs a plain getOrSet miss, memory only, alternating single
// operations (medians): node --conditions=@cachestack/source src/probe/after-invalidation.ts [n]
import { CacheStack, MemoryLayer } from '@cachestack/core'
import { makeValue } from '../value.ts'

const n = Number(process.argv[2] ?? 20_000)
const cache = new CacheStack([new MemoryLayer({ maxItems: 1_000_000 })], { ttl: 600_000 })
const old = makeValue(3)
const fresh = makeValue(9)
const factory = async () => fresh
const after = new Float64Array(n)
const plain = new Float64Array(n)
for (let i = 0; i < n; i++) {
  await cache.set(`a:${i}`, old, { tags: [`t${i}`] })
  await cache.invalidateByTag(`t${i}`)
  let t = performance.now()
  await cache.getOrSet(`a:${i}`, factory)
  after[i] = performance.now() - t
  t = performance.now()
  await cache.getOrSet(`p:${i}`, factory)
  plain[i] = performance.now() - t
}
const median = (v: Float64Array) => v.slice(n >> 2).sort()[(n - (n >> 2)) >> 1]! * 1000
console.log(
  `first read after invalidation p50 ${median(after).toFixed(2)} µs, plain miss p50 ${median(plain).toFixed(2)} µs, ratio ${(median(after) / median(plain)).toFixed(3)}`,
)

// A two-minute tour of cachestack. Runs on the embedded memory layer; set REDIS_URL to add Redis as L2.
import { type CacheLayer, CacheStack, MemoryLayer, RedisLayer } from '@cachestack/core'

const products = new Map([
  [1, { id: 1, name: 'Espresso machine', price: 349 }],
  [2, { id: 2, name: 'Grinder', price: 129 }],
])
let databaseQueries = 0

/** Pretends to be a slow database: 150 ms per query. */
async function loadProduct(id: number) {
  databaseQueries++
  await new Promise((resolve) => setTimeout(resolve, 150))
  return products.get(id) ?? null
}

function ms(since: number): string {
  return `${(performance.now() - since).toFixed(3)} ms`
}

export async function runDemo(log: (line: string) => void = console.log): Promise<void> {
  const layers: CacheLayer[] = [new MemoryLayer({ maxItems: 10_000 })]
  if (process.env.REDIS_URL)
    layers.push(new RedisLayer({ url: process.env.REDIS_URL, prefix: 'cachestack-demo:' }))
  const cache = new CacheStack(layers, { ttl: '1m', grace: '10m' })
  await cache.ready()
  log(`cachestack demo on ${layers.map((layer) => layer.name).join(' + ')}\n`)
  await cache.clear()

  log('1. A slow lookup becomes a fast hit')
  let started = performance.now()
  await cache.getOrSet('product:1', () => loadProduct(1), { tags: ['products'] })
  log(`   first read  (miss, database): ${ms(started)}`)
  started = performance.now()
  await cache.getOrSet('product:1', () => loadProduct(1), { tags: ['products'] })
  log(`   second read (hit, memory):    ${ms(started)}`)
  started = performance.now()
  for (let i = 0; i < 100_000; i++) await cache.get('product:1')
  log(
    `   100,000 more hits:            ${ms(started)} (${((performance.now() - started) * 10).toFixed(0)} ns each)\n`,
  )

  log('2. Stampede protection: 1,000 concurrent requests for a cold key')
  databaseQueries = 0
  started = performance.now()
  const answers = await Promise.all(
    Array.from({ length: 1000 }, () =>
      cache.getOrSet('product:2', () => loadProduct(2), { tags: ['products'] }),
    ),
  )
  log(`   ${answers.length} answers in ${ms(started)}, database queried ${databaseQueries} time(s)\n`)

  log('3. Tag invalidation: a price change purges every entry tagged "products"')
  products.set(2, { id: 2, name: 'Grinder', price: 99 })
  started = performance.now()
  await cache.invalidateByTag('products')
  log(`   invalidateByTag('products'):  ${ms(started)}`)
  started = performance.now()
  const fresh = await cache.getOrSet('product:2', () => loadProduct(2), { tags: ['products'] })
  log(`   next read (miss, database):   ${ms(started)} -> price ${fresh?.price}\n`)

  const stats = cache.getStats()
  log(`hits ${stats.hits}, misses ${stats.misses}, hit rate ${(stats.hitRate * 100).toFixed(1)}%`)
  await cache.disconnect()
}

if (import.meta.main) await runDemo()

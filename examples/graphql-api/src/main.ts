import type { AddressInfo } from 'node:net'
import { CacheStack, MemoryLayer, RedisLayer } from '@cachestack/core'
import { AuthorsDb, PostsDb } from './posts-db.ts'
import { createServer } from './server.ts'
import { runTour } from './tour.ts'

const redisUrl = process.env.REDIS_URL
const cache = new CacheStack(
  redisUrl ? [new MemoryLayer(), new RedisLayer({ url: redisUrl })] : [new MemoryLayer()],
  { ttl: '1m', grace: '10m' },
)
const posts = new PostsDb()
const authors = new AuthorsDb()
const server = await createServer(cache, posts, authors)
server.listen(Number(process.env.PORT ?? 4000), () => {
  const { port } = server.address() as AddressInfo
  const url = `http://127.0.0.1:${port}/graphql`
  console.log(`graphql-api (Yoga) listening on ${url}${redisUrl ? '' : ' (set REDIS_URL to add Redis)'}`)
  const tour = process.argv.includes('--no-tour')
    ? Promise.resolve()
    : runTour(url, posts, authors).catch((error) => console.error('tour failed:', error))
  void tour.then(() => {
    console.log(`  open ${url} for GraphiQL; Ctrl+C to stop`)
  })
})

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close()
    void cache.disconnect()
  })
}

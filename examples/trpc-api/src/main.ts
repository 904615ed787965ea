import type { AddressInfo } from 'node:net'
import { CacheStack, MemoryLayer, RedisLayer } from '@cachestack/core'
import { runTour } from './client.ts'
import { PostsDb } from './posts-db.ts'
import { createServer } from './server.ts'

const redisUrl = process.env.REDIS_URL
const cache = new CacheStack(
  redisUrl ? [new MemoryLayer(), new RedisLayer({ url: redisUrl })] : [new MemoryLayer()],
  { ttl: '1m', grace: '10m' },
)
const db = new PostsDb()
const server = createServer(cache, db)
server.listen(Number(process.env.PORT ?? 3000), () => {
  const { port } = server.address() as AddressInfo
  const url = `http://127.0.0.1:${port}`
  console.log(`trpc-api listening on ${url}${redisUrl ? '' : ' (set REDIS_URL to add Redis)'}`)
  const tour = process.argv.includes('--no-tour')
    ? Promise.resolve()
    : runTour(url, db).catch((error) => console.error('tour failed:', error))
  void tour.then(() => {
    console.log(
      `\n  try: curl -i '${url}/byId?input=%7B%22id%22%3A2%7D'  (Cache-Control: public, max-age=60)`,
    )
    console.log('  Ctrl+C to stop')
  })
})

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close()
    void cache.disconnect()
  })
}

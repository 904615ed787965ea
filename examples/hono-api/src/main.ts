import { serve } from '@hono/node-server'
import { createApp } from './app.ts'
import { createCache } from './create-cache.ts'

const cache = createCache()
const { app } = createApp(cache, process.env.STATS_TOKEN)
const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000) }, (info) => {
  console.log(`hono-api listening on http://localhost:${info.port}`)
  console.log(`  try: curl -i http://localhost:${info.port}/posts?page=1  (twice: MISS, then HIT)`)
})

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close()
    void cache.disconnect()
  })
}

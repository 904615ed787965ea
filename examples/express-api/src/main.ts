import { createApp } from './app.ts'
import { createCache } from './create-cache.ts'

const cache = createCache()
const { app } = createApp(cache, process.env.STATS_TOKEN)
const port = Number(process.env.PORT ?? 3000)
const server = app.listen(port, () => {
  const address = server.address()
  const actual = typeof address === 'object' && address ? address.port : port
  console.log(`express-api listening on http://localhost:${actual}`)
  console.log(`  try: curl -i http://localhost:${actual}/posts?page=1  (twice: MISS, then HIT)`)
})

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close()
    void cache.disconnect()
  })
}

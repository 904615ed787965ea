import { createApp } from './app.ts'
import { createCache } from './create-cache.ts'
import { runTour } from './tour.ts'

const cache = createCache()
const { app, db } = createApp(cache, process.env.STATS_TOKEN)
const port = Number(process.env.PORT ?? 3000)
const server = app.listen(port, () => {
  const address = server.address()
  const actual = typeof address === 'object' && address ? address.port : port
  console.log(`express-api listening on http://localhost:${actual}`)
  const layers = cache
    .getStats()
    .layers.map((layer) => layer.name)
    .join(' + ')
  console.log(`cache: ${layers}${process.env.REDIS_URL ? '' : ' (set REDIS_URL to add Redis)'}`)
  const tour = process.argv.includes('--no-tour')
    ? Promise.resolve()
    : runTour(`http://127.0.0.1:${actual}`, db).catch((error) => console.error('tour failed:', error))
  void tour.then(() => {
    console.log(`  try: curl -i http://localhost:${actual}/posts?page=1  (twice: MISS, then HIT)`)
    console.log('  Ctrl+C to stop')
  })
})

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close()
    void cache.disconnect()
  })
}

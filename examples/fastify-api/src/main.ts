import { createApp } from './app.ts'
import { createCache } from './create-cache.ts'

const cache = createCache()
const { app } = await createApp(cache, process.env.STATS_TOKEN)
app.addHook('onClose', () => cache.disconnect())
const url = await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' })
console.log(`fastify-api listening on ${url}`)
console.log(`  try: curl -i ${url}/posts?page=1  (twice: MISS, then HIT)`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void app.close())

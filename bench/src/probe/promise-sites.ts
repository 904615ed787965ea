// Where the promises of one getOrSet miss on Redis are created: the first frame in cachestack's code.
import { createHook } from 'node:async_hooks'
import { CacheStack, RedisLayer } from '@cachestack/core'
import { Redis } from 'ioredis'

const client = new Redis({ port: Number(process.env.PROBE_REDIS_PORT ?? 6391) })
await client.ping()
const cache = new CacheStack([new RedisLayer({ client, prefix: `ps${Date.now()}:` })], { ttl: 600000 })
const value = { id: 1 }
const factory = async () => value
for (let i = 0; i < 200; i++) await cache.getOrSet(`warm:${i}`, factory)
// Frames are printed relative to the repository root, wherever the checkout lives.
const root = new URL('../../../', import.meta.url).href
const sites = new Map<string, number>()
Error.stackTraceLimit = 30
const hook = createHook({
  init(_id, type) {
    const stack = (new Error().stack ?? '').split('\n').slice(2)
    const ours = stack.find((l) => l.includes('/packages/') || l.includes('promise-sites')) ?? stack[0] ?? '?'
    const key = `${type} ${ours.trim().replace(root, '')}`
    sites.set(key, (sites.get(key) ?? 0) + 1)
  },
})
const N = 20
hook.enable()
for (let i = 0; i < N; i++) await cache.getOrSet(`k:${i}`, factory)
hook.disable()
for (const [k, v] of [...sites].sort((a, b) => b[1] - a[1])) console.log((v / N).toFixed(2), k)
await cache.disconnect()
await client.quit()

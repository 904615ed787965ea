// Counts Redis commands, promises created and microtask/ticks per getOrSet miss.
import { createHook } from 'node:async_hooks'
import { CacheStack, MemoryLayer, RedisLayer } from '@cachestack/core'
import { Redis } from 'ioredis'

const tier = process.argv[2] ?? 'redis'
const client = new Redis({ port: Number(process.env.PROBE_REDIS_PORT ?? 6391) })
await client.ping()
const commands: string[] = []
const orig = client.sendCommand.bind(client)
;(client as any).sendCommand = (cmd: any, ...rest: any[]) => {
  commands.push(cmd.name)
  return orig(cmd, ...rest)
}
const layers: any[] = []
if (tier !== 'redis') layers.push(new MemoryLayer({ maxItems: 100000 }))
if (tier !== 'memory') layers.push(new RedisLayer({ client, prefix: 'cnt:' }))
const opts: any = { ttl: 600000 }
if (process.argv[3] === 'wb') opts.writeStrategy = 'write-behind'
const cache = new CacheStack(layers, opts)
const value = { id: 1, name: 'x'.repeat(100) }
const factory = async () => value
for (let i = 0; i < 200; i++) await cache.getOrSet(`warm:${i}`, factory)
let promises = 0
const types = new Map<string, number>()
const hook = createHook({
  init(_id, type) {
    promises++
    types.set(type, (types.get(type) ?? 0) + 1)
  },
})
commands.length = 0
const N = 100
hook.enable()
for (let i = 0; i < N; i++) await cache.getOrSet(`k:${Date.now()}:${i}`, factory)
hook.disable()
const byName = new Map<string, number>()
for (const c of commands) byName.set(c, (byName.get(c) ?? 0) + 1)
console.log(
  tier,
  process.argv[3] ?? '',
  'commands/miss',
  [...byName].map(([k, v]) => `${k}=${v / N}`).join(' '),
  'async resources/miss',
  promises / N,
  [...types].map(([k, v]) => `${k}=${v / N}`).join(' '),
)
// raw for comparison
promises = 0
types.clear()
hook.enable()
for (let i = 0; i < N; i++) {
  const k = `raw:${Date.now()}:${i}`
  const r = await client.get(k)
  if (r === null) await client.set(k, JSON.stringify(value), 'PX', 600000)
}
hook.disable()
console.log('raw async resources/miss', promises / N, [...types].map(([k, v]) => `${k}=${v / N}`).join(' '))
await cache.disconnect()
await client.quit()

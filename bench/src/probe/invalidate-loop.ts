// invalidateByTag on a tag held by N entries, memory-only or memory + Redis (+ bus):
// node --conditions=@cachestack/source src/probe/invalidate-loop.ts <memory|two-tier> <entries> [calls]
import { type CacheLayer, CacheStack, MemoryLayer, RedisBus, RedisLayer } from '@cachestack/core'
import { Redis } from 'ioredis'

const tier = process.argv[2] ?? 'memory'
const entries = Number(process.argv[3] ?? 10)
const calls = Number(process.argv[4] ?? 2000)
const port = Number(process.env.PROBE_REDIS_PORT ?? 6391)
const client = new Redis({ port })
const commands = new Map<string, number>()
const send = client.sendCommand.bind(client)
;(client as unknown as { sendCommand: typeof send }).sendCommand = (command, ...rest) => {
  commands.set(command.name, (commands.get(command.name) ?? 0) + 1)
  return send(command, ...rest)
}
const layers: CacheLayer[] = [new MemoryLayer({ maxItems: 100_000 })]
if (tier !== 'memory') layers.push(new RedisLayer({ client, prefix: `inv${Date.now()}:` }))
const bus =
  tier === 'memory' || process.env.NOBUS
    ? undefined
    : new RedisBus({ client: new Redis({ port }), channel: 'probe' })
const cache = new CacheStack(layers, { ttl: 600_000, ...(bus ? { bus } : {}) })
await cache.ready()
for (let i = 0; i < entries; i++) await cache.set(`e${i}`, { i }, { tags: ['hot'] })
for (let i = 0; i < 200; i++) await cache.invalidateByTag('hot')
commands.clear()
const raw = new Redis({ port })
const rawOp = () =>
  raw
    .pipeline()
    .set('probe:tag', '{"value":{"hard":1,"soft":0}}', 'PX', 86_400_000)
    .publish('probe-raw', 'x'.repeat(100))
    .exec()
// Alternating single operations, medians of single latencies: a burst of load hits both sides alike.
const ours = new Float64Array(calls)
const floor = new Float64Array(calls)
for (let i = 0; i < calls; i++) {
  let t = performance.now()
  await cache.invalidateByTag(process.env.FRESH ? `t${i}` : 'hot')
  ours[i] = performance.now() - t
  if (tier !== 'memory') {
    t = performance.now()
    await rawOp()
    floor[i] = performance.now() - t
  }
}
const median = (v: Float64Array) => v.slice().sort()[v.length >> 1]! * 1000
console.log(
  `${tier}, ${entries} tagged entries: invalidateByTag p50 ${median(ours).toFixed(2)} µs` +
    (tier === 'memory'
      ? ''
      : `, raw SET+PUBLISH pipelined p50 ${median(floor).toFixed(2)} µs, ratio ${(median(ours) / median(floor)).toFixed(3)}`) +
    '; commands per call:',
  [...commands].map(([name, n]) => `${name}=${n / calls}`).join(' ') || 'none',
)
await cache.disconnect()
await client.quit()
await raw.quit()
process.exit(0)

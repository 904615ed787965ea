// invalidateByTag on memory + Redis with a RedisBus and without one, single calls alternating in one
// process: median time of each and main-thread CPU per call, and the Redis commands each sends.
//   node --conditions=@cachestack/source src/probe/invalidate-ab.ts [calls=3000]
import { CacheStack, MemoryLayer, RedisBus, RedisLayer } from '@cachestack/core'
import { Redis } from 'ioredis'

const port = Number(process.env.PROBE_REDIS_PORT ?? 6391)
const calls = Number(process.argv[2] ?? 3000)
type Side = 'bus' | 'nobus'
const commands: Record<Side, Map<string, number>> = { bus: new Map(), nobus: new Map() }

async function stack(side: Side): Promise<CacheStack> {
  const client = new Redis({ port })
  const send = client.sendCommand.bind(client)
  ;(client as unknown as { sendCommand: typeof send }).sendCommand = (command, ...rest) => {
    commands[side].set(command.name, (commands[side].get(command.name) ?? 0) + 1)
    return send(command, ...rest)
  }
  const bus = side === 'bus' ? new RedisBus({ client: new Redis({ port }), channel: 'probe-ab' }) : undefined
  const layers = [new MemoryLayer({ maxItems: 100_000 }), new RedisLayer({ client, prefix: `ab-${side}:` })]
  const cache = new CacheStack(layers, { ttl: 600_000, ...(bus ? { bus } : {}) })
  await cache.ready()
  for (let i = 0; i < 10; i++) await cache.set(`e${i}`, { i }, { tags: ['hot'] })
  for (let i = 0; i < 300; i++) await cache.invalidateByTag('hot')
  commands[side].clear()
  return cache
}

const stacks: Record<Side, CacheStack> = { bus: await stack('bus'), nobus: await stack('nobus') }
const times: Record<Side, number[]> = { bus: [], nobus: [] }
const cpu: Record<Side, number> = { bus: 0, nobus: 0 }
for (let i = 0; i < calls; i++) {
  for (const side of (i & 1 ? ['bus', 'nobus'] : ['nobus', 'bus']) as Side[]) {
    const main = process.threadCpuUsage()
    const t0 = performance.now()
    await stacks[side].invalidateByTag('hot')
    times[side].push(performance.now() - t0)
    const used = process.threadCpuUsage(main)
    cpu[side] += used.user + used.system
  }
}
for (const side of ['bus', 'nobus'] as Side[]) {
  const sorted = times[side].sort((a, b) => a - b)
  const sent = [...commands[side]].map(([name, n]) => `${name}=${n / calls}`).join(' ')
  console.log(
    `${side.padEnd(5)} p50 ${(sorted[calls >> 1]! * 1000).toFixed(1)} µs, main-thread cpu ` +
      `${(cpu[side] / calls).toFixed(1)} µs/call, commands per call: ${sent}`,
  )
}
for (const cache of Object.values(stacks)) await cache.disconnect()
process.exit(0)

// One cache instance in its own process for the distributed bench, driven over IPC by distributed.ts.
import { CacheStack, MemoryLayer, RedisBus, RedisLayer, RedisSingleFlight } from '@cachestack/core'
import { Redis } from 'ioredis'
import { serveParent, tell } from '../../tools/child-process.ts'

interface Config {
  port: number
  prefix: string
  singleFlight: boolean
}

/** A command from distributed.ts. */
export type Command =
  | { id: number; cmd: 'set'; key: string; value: unknown }
  | { id: number; cmd: 'get'; key: string }
  | { id: number; cmd: 'delete'; key: string }
  | { id: number; cmd: 'deleteRounds'; rounds: number; gap: number }
  | { id: number; cmd: 'recordReceives' }
  | { id: number; cmd: 'receives' }
  | { id: number; cmd: 'burst'; key: string; count: number; delay: number }
  | { id: number; cmd: 'factoryCalls' }
  | { id: number; cmd: 'degraded' }

const config = JSON.parse(process.argv[2]!) as Config
// Reconnect every 50 ms like a service tuned for fast recovery; commands fail fast while Redis is away.
const client = new Redis({
  host: '127.0.0.1',
  port: config.port,
  maxRetriesPerRequest: 1,
  retryStrategy: () => 50,
})
client.on('error', () => {})
const memory = new MemoryLayer()
const stack = new CacheStack(
  [memory, new RedisLayer({ client, prefix: config.prefix, commandTimeout: 500 })],
  {
    bus: new RedisBus({ client, channel: `${config.prefix}bus` }),
    singleFlight: config.singleFlight
      ? new RedisSingleFlight({ client, lease: '30s', prefix: `${config.prefix}sf:` })
      : undefined,
    ttl: '10m',
  },
)
stack.on('error', () => {})
let factoryCalls = 0
let receives: number[] | undefined

/**
 * CLOCK_MONOTONIC in ms: one clock for every process of the machine (performance.timeOrigin is not
 * precise enough to compare processes: it was off by ~10 ms here).
 */
const now = () => Number(process.hrtime.bigint()) / 1e6

stack.on('bus-receive', () => {
  // Measured once the message has been applied to L1 (applyRemote runs in the same tick).
  if (receives) setImmediate(() => receives!.push(now()))
})

async function handle(command: Command): Promise<unknown> {
  switch (command.cmd) {
    case 'set':
      await stack.set(command.key, command.value)
      return true
    case 'get':
      return (await stack.get(command.key)) ?? null
    case 'delete':
      await stack.delete(command.key)
      return true
    case 'deleteRounds': {
      const sent: number[] = []
      for (let i = 0; i < command.rounds; i++) {
        sent.push(now())
        await stack.delete(`round:${i}`)
        await new Promise((resolve) => setTimeout(resolve, command.gap))
      }
      return sent
    }
    case 'recordReceives':
      receives = []
      return true
    case 'receives':
      return receives ?? []
    case 'burst': {
      const factory = async () => {
        factoryCalls++
        await new Promise((resolve) => setTimeout(resolve, command.delay))
        return { computedBy: process.pid }
      }
      const latencies = await Promise.all(
        Array.from({ length: command.count }, async () => {
          const started = performance.now()
          await stack.getOrSet(command.key, factory)
          return performance.now() - started
        }),
      )
      return latencies
    }
    case 'factoryCalls':
      return factoryCalls
    case 'degraded':
      return stack.getStats().layers.some((layer) => layer.degraded)
  }
}

serveParent(handle, () => stack.disconnect().finally(() => client.disconnect()))
await stack.ready()
tell('ready')

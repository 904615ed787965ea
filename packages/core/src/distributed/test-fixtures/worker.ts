// One cache instance in its own process, driven over IPC by the multi-process tests and the bench.
// Run as: node --conditions=@cachestack/source worker.ts '<json WorkerConfig>'
import { Cluster, Redis } from 'ioredis'
import { serveParent, tell } from '../../../../../tools/child-process.ts'
import { CacheStack } from '../../cache-stack.ts'
import type { Duration } from '../../internal/units.ts'
import { MemoryLayer } from '../../layers/memory-layer.ts'
import { RedisLayer } from '../../layers/redis-layer.ts'
import { RedisBus } from '../redis-bus.ts'
import { RedisSingleFlight } from '../redis-single-flight.ts'

/** How the parent configures a worker. */
export interface WorkerConfig {
  /** `redis://host:port` or a comma-separated list of cluster nodes `host:port,host:port`. */
  redis: string
  cluster?: boolean
  prefix: string
  channel: string
  /** Turns on `RedisSingleFlight` with this lease. */
  lease?: Duration
}

/** A command from the parent; every command is answered with `{ id, result }` or `{ id, error }`. */
export type WorkerCommand =
  | { id: number; cmd: 'burst'; key: string; count: number; delay: number | 'until-opened' }
  | { id: number; cmd: 'open' }
  | { id: number; cmd: 'hold'; key: string }
  | { id: number; cmd: 'get'; key: string }
  | { id: number; cmd: 'set'; key: string; value: unknown; tags?: string[] }
  | { id: number; cmd: 'invalidateTag'; tag: string }
  | { id: number; cmd: 'delete'; key: string }
  | { id: number; cmd: 'inL1'; key: string }
  | { id: number; cmd: 'stats' }
  | { id: number; cmd: 'lockBurst'; key: string; count: number; ttl: Duration; wait?: Duration }
  | { id: number; cmd: 'rateBurst'; key: string; count: number; limit: number; window: Duration }
  | { id: number; cmd: 'keyspaceBurst'; id_: string; count: number }
  | { id: number; cmd: 'keyspaceRead'; id_: string }

const config = JSON.parse(process.argv[2]!) as WorkerConfig
const client = config.cluster
  ? new Cluster(
      config.redis
        .split(',')
        .map((node) => ({ host: node.split(':')[0]!, port: Number(node.split(':')[1]) })),
      { redisOptions: { maxRetriesPerRequest: 1 } },
    )
  : new Redis(config.redis, { maxRetriesPerRequest: 1 })
client.on('error', () => {})
const memory = new MemoryLayer()
const bus = new RedisBus({ client, channel: config.channel })
const flight =
  config.lease === undefined
    ? undefined
    : new RedisSingleFlight({ client, lease: config.lease, prefix: `${config.prefix}sf:` })
const stack = new CacheStack([memory, new RedisLayer({ client, prefix: config.prefix })], {
  bus,
  singleFlight: flight,
})
let factoryCalls = 0
/** Ends the factory of a burst run with `delay: 'until-opened'`. */
let open: (() => void) | undefined

async function handle(command: WorkerCommand): Promise<unknown> {
  switch (command.cmd) {
    case 'burst': {
      const { delay } = command
      const factory = async () => {
        factoryCalls++
        if (delay === 'until-opened') {
          tell('factory-started')
          await new Promise<void>((resolve) => {
            open = resolve
          })
        } else {
          await new Promise((resolve) => setTimeout(resolve, delay))
        }
        return `computed by ${process.pid}`
      }
      const started = performance.now()
      const values = await Promise.all(
        Array.from({ length: command.count }, () => stack.getOrSet(command.key, factory)),
      )
      return { values: [...new Set(values)], ms: performance.now() - started }
    }
    case 'open':
      open?.()
      return open === undefined ? 'no factory running' : 'opened'
    case 'hold':
      // The factory never ends: the parent kills this process while it holds the lease.
      void stack.getOrSet(command.key, () => {
        factoryCalls++
        tell('factory-started')
        return new Promise(() => {})
      })
      return 'holding'
    case 'get':
      return (await stack.get(command.key)) ?? null
    case 'set':
      await stack.set(command.key, command.value, { tags: command.tags, ttl: '10m' })
      return 'ok'
    case 'invalidateTag':
      await stack.invalidateByTag(command.tag)
      return 'ok'
    case 'delete':
      await stack.delete(command.key)
      return 'ok'
    case 'inL1':
      return memory.get(command.key) !== undefined
    case 'stats':
      return { factoryCalls, flight: flight?.stats, bus: bus.stats }
    case 'lockBurst': {
      // Concurrent tries, none released: the parent counts the winners across processes.
      const { key, ttl, wait } = command
      const tries = await Promise.all(
        Array.from({ length: command.count }, () => stack.lock(key, { ttl, wait, retryDelay: 10 })),
      )
      return tries.filter((lock) => lock.acquired).length
    }
    case 'rateBurst': {
      const { key, limit, window } = command
      const answers = await Promise.all(
        Array.from({ length: command.count }, () => stack.rateLimit({ key, limit, window })),
      )
      return answers.filter((answer) => answer.allowed).length
    }
    case 'keyspaceBurst': {
      // Concurrent increments of an int and a float counter, list pushes and set adds of one id.
      const key = { id: command.id_ }
      const ints = stack.keyspace({ kind: 'int', pattern: 'hits/:id' })
      const floats = stack.keyspace({ kind: 'float', pattern: 'score/:id' })
      const list = stack.keyspace({ kind: 'stringList', pattern: 'log/:id' })
      const set = stack.keyspace({ kind: 'stringSet', pattern: 'seen/:id' })
      await Promise.all(
        Array.from({ length: command.count }, (_, i) =>
          Promise.all([
            ints.increment(key),
            floats.increment(key, 0.5),
            list.pushRight(key, `${process.pid}:${i}`),
            set.add(key, `${process.pid}:${i}`, 'shared'),
          ]),
        ),
      )
      return 'ok'
    }
    case 'keyspaceRead': {
      const key = { id: command.id_ }
      const log = await stack.keyspace({ kind: 'stringList', pattern: 'log/:id' }).items(key)
      return {
        hits: await stack.keyspace({ kind: 'int', pattern: 'hits/:id' }).get(key),
        score: await stack.keyspace({ kind: 'float', pattern: 'score/:id' }).get(key),
        log: log.length,
        distinctLog: new Set(log).size,
        seen: await stack.keyspace({ kind: 'stringSet', pattern: 'seen/:id' }).size(key),
      }
    }
  }
}

serveParent(handle, () => stack.disconnect().finally(() => client.disconnect()))
await stack.ready()
tell('ready')

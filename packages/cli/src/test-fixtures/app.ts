// A running app for the CLI's end-to-end tests: memory L1 + Redis L2 + RedisBus, in its own process,
// driven over IPC. Every read says where its value came from: the L1, Redis, or the factory (a miss).
// Run as: node --conditions=@cachestack/source app.ts '<json AppConfig>'
import { CacheStack, MemoryLayer, RedisBus, RedisLayer } from '@cachestack/core'
import { Cluster, Redis } from 'ioredis'
import { serveParent, tell } from '../../../../tools/child-process.ts'

/** How the test configures the app. */
export interface AppConfig {
  /** `redis://host:port`, or cluster nodes `host:port,host:port` with `cluster: true`. */
  redis: string
  cluster?: boolean
  prefix: string
  channel: string
  generation?: number
  /** The bus's `signingSecret`. */
  secret?: string
}

/** Where a read's value came from. */
export type ReadSource = 'memory' | 'redis' | 'factory'

/** A command from the test; each is answered with `{ id, result }` or `{ id, error }`. */
export type AppCommand =
  | { id: number; cmd: 'set'; key: string; value: unknown; tags?: string[]; namespace?: string }
  | { id: number; cmd: 'read'; key: string; namespace?: string }
  | { id: number; cmd: 'received' }
  | { id: number; cmd: 'ignored' }

const config = JSON.parse(process.argv[2]!) as AppConfig
const client = config.cluster
  ? new Cluster(
      config.redis
        .split(',')
        .map((node) => ({ host: node.split(':')[0]!, port: Number(node.split(':')[1]) })),
      { redisOptions: { maxRetriesPerRequest: 1 } },
    )
  : new Redis(config.redis, { maxRetriesPerRequest: 1 })
client.on('error', () => {})
const bus = new RedisBus({ client, channel: config.channel, signingSecret: config.secret })
const stack = new CacheStack([new MemoryLayer(), new RedisLayer({ client, prefix: config.prefix })], {
  bus,
  generation: config.generation,
  ttl: '10m',
})
let lastHit: { key: string; layer: string } | undefined
stack.on('hit', (hit) => {
  lastHit = hit
})

const view = (namespace: string | undefined) => (namespace === undefined ? stack : stack.namespace(namespace))

async function handle(command: AppCommand): Promise<unknown> {
  switch (command.cmd) {
    case 'set':
      await view(command.namespace).set(command.key, command.value, { tags: command.tags })
      return 'ok'
    case 'read': {
      lastHit = undefined
      let source: ReadSource | undefined
      const value = await view(command.namespace).getOrSet(command.key, () => {
        source = 'factory'
        return `fresh:${command.key}`
      })
      // The hit event of this read (reads run one at a time); narrowed to never by TS without the cast.
      const layer = (lastHit as { layer: string } | undefined)?.layer
      source ??= layer === 'memory' ? 'memory' : layer === 'redis' ? 'redis' : undefined
      return { value, source }
    }
    case 'received':
      return bus.stats.received
    case 'ignored':
      return bus.stats.ignored.signature
  }
}

serveParent(handle, () => stack.disconnect().finally(() => client.disconnect()))
await stack.ready()
tell('ready')

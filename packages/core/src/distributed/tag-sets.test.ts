// 'all'-mode tag invalidations (invalidateByTags(tags, 'all'), expireByTags) outlive the process that
// made them, as 'any'-mode ones do: they are stored in Redis, not only told over the bus. Before, a set
// invalidation lived in the invalidating process's memory and one bus message, so an instance started
// afterwards, one that missed the message, or the same app after a restart served the old value.
import { Cluster, Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import {
  createTestCluster,
  createTestRedis,
  testClusterNodes,
  testRedisUrl,
  uniquePrefix,
} from '../../../../tools/test-redis.ts'
import { CacheStack } from '../cache-stack.ts'
import type { Clock } from '../layer.ts'
import { MemoryLayer } from '../layers/memory-layer.ts'
import { RedisLayer } from '../layers/redis-layer.ts'
import { RedisBus } from './redis-bus.ts'
import { eventually } from './test-fixtures/helpers.ts'

const stacks: CacheStack[] = []
const extraClients: (Redis | Cluster)[] = []
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((stack) => stack.disconnect()))
  for (const extra of extraClients.splice(0)) extra.disconnect()
})

// A client whose connections (the bus's subscriber included) come back only 1.5 s after a loss: long
// enough for another instance's message to be missed for sure.
function slowReconnecting(cluster: boolean, connectionName: string): Redis | Cluster {
  const redisOptions = { connectionName, maxRetriesPerRequest: 1, retryStrategy: () => 1_500 }
  const made = cluster
    ? new Cluster(testClusterNodes(), { redisOptions })
    : new Redis(testRedisUrl(), redisOptions)
  made.on('error', () => {})
  extraClients.push(made)
  return made
}

/** Kills the pub/sub connections named `connectionName`, on every node (by id: other suites share the server). */
async function killSubscriber(client: Redis | Cluster, connectionName: string): Promise<number> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client]
  let killed = 0
  for (const node of nodes) {
    const list = (await node.client('LIST')) as string
    for (const line of list.split('\n')) {
      if (!line.includes(`name=${connectionName} `) || / sub=0 /.test(line)) continue
      const id = /\bid=(\d+)/.exec(line)?.[1]
      if (id) killed += Number(await node.client('KILL', 'ID', id))
    }
  }
  return killed
}

describe.each([
  ['a single Redis', createTestRedis, false],
  ['a Redis Cluster', createTestCluster, true],
] as const)("durable 'all'-mode tag invalidations on %s", (_label, create, cluster) => {
  const client: Redis | Cluster = create()
  afterAll(async () => {
    await client.quit()
  })

  function app(prefix: string, options: { bus?: Redis | Cluster; clock?: Clock } = {}) {
    const memory = new MemoryLayer()
    const bus = options.bus ? new RedisBus({ client: options.bus, channel: `${prefix}bus` }) : undefined
    const stack = new CacheStack([memory, new RedisLayer({ client, prefix })], {
      ttl: '1h',
      bus,
      clock: options.clock,
    })
    stack.on('error', () => {})
    stacks.push(stack)
    return { stack, memory, bus }
  }

  async function seed(stack: CacheStack): Promise<void> {
    await stack.set('both', 'old', { tags: ['x', 'y'], grace: '1h' })
    await stack.set('onlyX', 'kept', { tags: ['x'] })
    await stack.set('all3', 'old', { tags: ['z', 'y', 'x'] })
    await stack.set('ns:both', 'old', { tags: ['x', 'y'] })
  }

  it('an instance started afterwards sees invalidateByTags(..., "all") and expireByTags(..., "all")', async () => {
    const prefix = uniquePrefix('tagset-later')
    const a = app(prefix)
    await seed(a.stack)
    await a.stack.set('soft', 'stale now', { tags: ['s', 't'], grace: '1h' })
    await a.stack.invalidateByTags(['y', 'x'], 'all')
    await a.stack.expireByTags(['s', 't'], 'all')

    const b = app(prefix)
    expect(await b.stack.get('both')).toBeUndefined()
    expect(await b.stack.get('all3')).toBeUndefined()
    expect(await b.stack.get('onlyX')).toBe('kept')
    // Soft: stale, so a read with a fetcher refreshes it, and a plain read within grace still answers.
    expect(await b.stack.has('soft')).toBe(false)
    expect(await b.stack.get('soft', () => 'fresh')).toBe('fresh')
  })

  it('the same app after a restart (its memory gone) does not serve what it invalidated', async () => {
    const prefix = uniquePrefix('tagset-restart')
    const first = app(prefix)
    await seed(first.stack)
    await first.stack.invalidateByTags(['x', 'y'], 'all')
    await first.stack.disconnect()
    const restarted = app(prefix)
    expect(await restarted.stack.get('both')).toBeUndefined()
    expect(await restarted.stack.get('onlyX')).toBe('kept')
    // An entry written after the invalidation is not caught by it.
    await restarted.stack.set('both', 'new', { tags: ['x', 'y'] })
    expect(await app(prefix).stack.get('both')).toBe('new')
  })

  it('an instance whose bus subscription missed the message drops its L1, then sees the set in Redis', async () => {
    const prefix = uniquePrefix('tagset-missed')
    const name = `b${process.pid}${Math.random().toString(36).slice(2, 8)}`
    const a = app(prefix, { bus: client })
    const b = app(prefix, { bus: slowReconnecting(cluster, name) })
    await Promise.all([a.stack.ready(), b.stack.ready()])
    await seed(a.stack)
    expect(await b.stack.get('both')).toBe('old')
    expect(b.memory.get('both')).toBeDefined()
    await eventually(() => expect(b.bus!.stats.received).toBe(4))
    const published = a.bus!.stats.published
    expect(await killSubscriber(client, name)).toBe(1)
    await a.stack.invalidateByTags(['x', 'y'], 'all')
    await eventually(() => expect(a.bus!.stats.published).toBe(published + 1))
    await eventually(() => expect(b.bus!.stats.reconnects).toBe(1), 10_000)
    // The message was missed for sure; B dropped its L1 on reconnecting and reads Redis again.
    expect(b.bus!.stats.received).toBe(4)
    expect(await b.stack.get('both')).toBeUndefined()
    expect(await b.stack.get('ns:both')).toBeUndefined()
    expect(await b.stack.get('onlyX')).toBe('kept')
  })

  it('keeps one key per first tag, and drops sets no entry can predate any more', async () => {
    const prefix = uniquePrefix('tagset-bounded')
    let now = Date.parse('2026-01-01T00:00:00Z')
    const clock = { now: () => now }
    const a = app(prefix, { clock })
    await a.stack.set('k', 1, { tags: ['p', 'q'], ttl: '1m' })
    await a.stack.invalidateByTags(['p', 'q'], 'all')
    await a.stack.invalidateByTags(['p', 'r'], 'all')
    const stored = async () => (await new RedisLayer({ client, prefix }).get('__cs:tag:p'))?.value
    expect(Object.keys((await stored()) as object)).toEqual(['hard', 'soft', 'sets', 'until'])
    expect(Object.keys(((await stored()) as { sets: object }).sets).sort()).toEqual(['p\u001eq', 'p\u001er'])
    // Two days on (past the one-day minimum retention), a new set under 'p' leaves the old ones out.
    now += 2 * 86_400_000
    await a.stack.invalidateByTags(['p', 's'], 'all')
    expect(Object.keys(((await stored()) as { sets: object }).sets)).toEqual(['p\u001es'])
  })
})

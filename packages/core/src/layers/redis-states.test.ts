// Tag states written in one round trip (RedisLayer.writeStates): a state never moves back, whichever
// instance writes last, on a single server and on a Cluster.
import type { Cluster, Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { createTestCluster, createTestRedis, uniquePrefix } from '../../../../tools/test-redis.ts'
import { CacheStack } from '../cache-stack.ts'
import { type CacheEntry, FOREVER } from '../layer.ts'
import { MemoryLayer } from './memory-layer.ts'
import { RedisLayer } from './redis-layer.ts'

const clients: (Redis | Cluster)[] = []
afterAll(async () => {
  await Promise.all(clients.map((client) => client.quit()))
})

function state(hard: number, soft = 0, sets?: Record<string, { hard: number; soft: number }>): CacheEntry {
  const value = sets ? { hard, soft, sets } : { hard, soft }
  return { value, createdAt: 0, freshUntil: FOREVER, swrUntil: FOREVER, graceUntil: FOREVER }
}

describe.each([
  ['a single server', createTestRedis],
  ['a Cluster', createTestCluster],
])('writeStates on %s', (_name, connect) => {
  const client = connect()
  clients.push(client)

  it('writes a later state, answers the stored one instead of moving it back, writes anything when forced', async () => {
    const layer = new RedisLayer({ client, prefix: uniquePrefix('states') })
    const write = (entry: CacheEntry, force = false) =>
      layer.writeStates([{ key: 't', entry, ttl: 60_000 }], undefined, force)
    expect(await write(state(200))).toEqual([{ written: true }])
    expect(await write(state(300))).toEqual([{ written: true }])
    const [older] = await write(state(100, 400))
    expect(older).toMatchObject({ written: false, stored: { value: { hard: 300, soft: 0 } } })
    expect((await layer.get('t'))?.value).toEqual({ hard: 300, soft: 0 })
    expect(await write(state(100), true)).toEqual([{ written: true }])
    expect((await layer.get('t'))?.value).toEqual({ hard: 100, soft: 0 })
  })

  it('keeps a set invalidation the writer does not know of, unless it is older than keepAfter', async () => {
    const layer = new RedisLayer({ client, prefix: uniquePrefix('state-sets') })
    await layer.writeStates(
      [{ key: 't', entry: state(10, 0, { 'a\u001eb': { hard: 50, soft: 0 } }), ttl: 1 }],
      0,
    )
    const [kept] = await layer.writeStates([{ key: 't', entry: state(20), ttl: 1 }], 0)
    expect(kept).toMatchObject({ written: false, stored: { value: { sets: { 'a\u001eb': { hard: 50 } } } } })
    expect(await layer.writeStates([{ key: 't', entry: state(20), ttl: 1 }], 60)).toEqual([{ written: true }])
  })

  it('an invalidation by an instance whose clock lags leaves the later state in Redis', async () => {
    const prefix = uniquePrefix('state-stacks')
    let now = 2_000_000
    const ahead = new CacheStack([new MemoryLayer(), new RedisLayer({ client, prefix })], {
      clock: { now: () => now },
    })
    const behind = new CacheStack([new MemoryLayer(), new RedisLayer({ client, prefix })], {
      clock: { now: () => now - 1_000_000 },
    })
    await ahead.invalidateByTag('t')
    await behind.invalidateByTag('t')
    // An entry written between the two invalidation times is dead for a third instance reading Redis.
    now = 2_000_010
    const reader = new CacheStack([new RedisLayer({ client, prefix })], { clock: { now: () => now } })
    await new CacheStack([new RedisLayer({ client, prefix })], {
      clock: { now: () => 1_500_000 },
    }).set('k', 1, { tags: ['t'], ttl: 3_600_000 })
    expect(await reader.get('k')).toBeUndefined()
    await Promise.all([ahead, behind, reader].map((stack) => stack.disconnect()))
  })
})

import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestCluster, uniquePrefix } from '../../../../tools/test-redis.ts'
import { keySlot, slotTagOf } from '../internal/key-slot.ts'
import { createTestEntry, describeLayerContract } from '../testing/index.ts'
import { RedisLayer } from './redis-layer.ts'

const cluster = createTestCluster()
afterAll(async () => {
  await cluster.quit()
})

describeLayerContract('RedisLayer (Redis Cluster, json)', () => {
  return new RedisLayer({ client: cluster, prefix: uniquePrefix('cluster-json') })
})

describeLayerContract('RedisLayer (Redis Cluster, msgpack + gzip)', () => {
  return new RedisLayer({
    client: cluster,
    serializer: 'msgpack',
    compression: 'gzip',
    compressionThreshold: 64,
    prefix: uniquePrefix('cluster-gzip'),
  })
})

async function countKeys(node: Redis, pattern: string): Promise<number> {
  let cursor = '0'
  let count = 0
  do {
    const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
    cursor = next
    count += found.length
  } while (cursor !== '0')
  return count
}

const entry = (value: unknown) => createTestEntry(value)

describe('RedisLayer on a Redis Cluster', () => {
  const prefix = uniquePrefix('cluster-spread')
  const layer = new RedisLayer({ client: cluster, prefix })
  const keys = Array.from({ length: 120 }, (_, i) => `user:${i}`)

  beforeAll(async () => {
    await cluster.ping()
  })

  it('computes the same hash slot as the servers', async () => {
    const samples = ['a', 'user:1', '{user}:1', 'x{}y', '{}', 'a{b}c{d}', 'héllo-🚀', prefix + keys[7]]
    for (const key of samples) {
      expect(keySlot(key), key).toBe(await cluster.cluster('KEYSLOT', key))
    }
  })

  it("finds a hash tag of any key's slot, for single-flight leases kept beside the entry", async () => {
    const samples = [
      'plain',
      'p:{user:1}:orders',
      'a{b{c}d',
      'x{}y',
      '{}',
      'a}b',
      '}',
      '',
      'q={"a":1}',
      'héllo-🚀',
    ]
    for (const key of samples) {
      const { tag } = slotTagOf(key)
      // Anything after the tag, even braces, leaves the slot alone: the first tag decides.
      const lease = `flight:${tag}:${key}:lease`
      expect(await cluster.cluster('KEYSLOT', lease), key).toBe(await cluster.cluster('KEYSLOT', key))
    }
  })

  it('spreads keys over every master and runs multi-key commands without CROSSSLOT', async () => {
    await layer.setMany(keys.map((key, i) => ({ key, entry: entry(i), ttl: 60_000 })))
    const masters = cluster.nodes('master')
    expect(masters).toHaveLength(3)
    const perMaster = await Promise.all(masters.map((node) => countKeys(node, `${prefix}*`)))
    expect(perMaster.every((count) => count > 0)).toBe(true)
    expect(perMaster.reduce((a, b) => a + b, 0)).toBe(keys.length)

    const found = await layer.getMany([...keys, 'absent', keys[0]!])
    expect(found.map((e) => e?.value)).toEqual([...keys.map((_, i) => i), undefined, 0])
    expect(await layer.deleteMany(keys.slice(0, 60))).toBe(60)
    expect((await layer.getMany(keys.slice(0, 60))).every((e) => e === undefined)).toBe(true)
    await layer.clear()
    const left = await Promise.all(masters.map((node) => countKeys(node, `${prefix}*`)))
    expect(left).toEqual([0, 0, 0])
  })
})

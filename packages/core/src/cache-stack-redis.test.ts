import type { Cluster, Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createTestCluster, createTestRedis, uniquePrefix } from '../../../tools/test-redis.ts'
import { CacheStack } from './cache-stack.ts'
import { MemoryLayer, RedisLayer } from './index.ts'
import { createManualClock } from './testing/index.ts'

type Client = Redis | Cluster

const manualClock = (start = Date.now()) => createManualClock(start)

for (const kind of ['single server', 'cluster'] as const) {
  describe(`CacheStack on memory + Redis (${kind})`, () => {
    let client: Client
    const stacks: CacheStack[] = []
    beforeAll(async () => {
      client = kind === 'cluster' ? createTestCluster() : createTestRedis()
      await client.ping()
    })
    afterEach(async () => {
      await Promise.all(stacks.splice(0).map((cache) => cache.disconnect()))
    })
    afterAll(async () => {
      await client.quit()
    })

    function twoTier(prefix: string, options: ConstructorParameters<typeof CacheStack>[1] = {}) {
      const memory = new MemoryLayer()
      const redis = new RedisLayer({ client, prefix })
      const cache = new CacheStack([memory, redis], options)
      stacks.push(cache)
      return { cache, memory, redis }
    }

    it('writes through to Redis and back-fills memory with the remaining ttl', async () => {
      const prefix = uniquePrefix('backfill')
      const clock = manualClock()
      const writer = twoTier(prefix, { clock })
      await writer.cache.set('user:1', { name: 'Ada' }, { ttl: '60s' })
      expect(await client.exists(`${prefix}user:1`)).toBe(1)

      clock.advance(20_000)
      const reader = twoTier(prefix, { clock })
      const backfills: string[] = []
      reader.cache.on('backfill', ({ fromLayer, toLayer }) => backfills.push(`${fromLayer}->${toLayer}`))
      expect(await reader.cache.get('user:1')).toEqual({ name: 'Ada' })
      expect(backfills).toEqual(['redis->memory'])
      const remaining = await reader.memory.ttl('user:1')
      expect(remaining).toBeGreaterThan(39_000)
      expect(remaining).toBeLessThanOrEqual(40_000)
      expect((await reader.cache.inspect('user:1'))?.foundInLayers).toEqual(['memory', 'redis'])
      expect(reader.cache.getStats().layers.map((layer) => [layer.name, layer.hits])).toEqual([
        ['memory', 0],
        ['redis', 1],
      ])
    })

    it('delete answers whether a layer held the key, without reading it first', async () => {
      const prefix = uniquePrefix('delete')
      const writer = twoTier(prefix)
      await writer.cache.set('k', 'v')
      const other = twoTier(prefix)
      const backfills: string[] = []
      other.cache.on('backfill', ({ key }) => backfills.push(key))
      expect(await other.cache.delete('k')).toBe(true)
      expect(await other.cache.delete('k')).toBe(false)
      expect(backfills).toEqual([])
      expect(await client.exists(`${prefix}k`)).toBe(0)
    })

    it('runs a per-layer ttl map: memory short, Redis long', async () => {
      const prefix = uniquePrefix('layer-ttl')
      const clock = manualClock()
      const { cache } = twoTier(prefix, { clock })
      await cache.set('k', 'v', { ttl: { memory: '5s', redis: '1m' } })
      clock.advance(6_000)
      const found = await cache.inspect('k')
      expect(found?.foundInLayers).toEqual(['redis'])
      expect(await cache.get('k')).toBe('v')
      const pttl = await client.pttl(`${prefix}k`)
      expect(pttl).toBeGreaterThan(50_000)
    })

    it('treats garbage bytes as a miss: key removed, error event, the fetcher runs', async () => {
      const prefix = uniquePrefix('garbage')
      const { cache } = twoTier(prefix)
      const errors: unknown[] = []
      cache.on('error', ({ error }) => errors.push(error))
      await client.set(`${prefix}broken`, Buffer.from([0xff, 0x00, 0x13, 0x37, 0x7b]))
      expect(await cache.get('broken', () => 'fresh')).toBe('fresh')
      expect(errors).toHaveLength(1)
      expect(await cache.get('broken')).toBe('fresh')
    })

    it('sees a tag invalidation made by another instance when reading from Redis', async () => {
      const prefix = uniquePrefix('tags')
      const a = twoTier(prefix)
      const b = twoTier(prefix)
      await a.cache.set('post:1', 'hello', { tags: ['posts'] })
      await b.cache.invalidateByTag('posts')
      const c = twoTier(prefix)
      expect(await c.cache.get('post:1')).toBeUndefined()
    })

    it('invalidates by prefix and pattern with SCAN across every node', async () => {
      const prefix = uniquePrefix('scan')
      const { cache } = twoTier(prefix)
      const keys = Array.from({ length: 60 }, (_, i) => `item:${i}`)
      await cache.mset(keys.map((key) => ({ key, value: key })))
      await cache.set('other', 1)
      await cache.invalidateByPrefix('item:')
      expect((await cache.getMany(keys)).every((value) => value === undefined)).toBe(true)
      expect(await cache.get('other')).toBe(1)
      await cache.mset(keys.map((key) => ({ key, value: key })))
      await cache.invalidateByPattern('item:1?')
      const left = await cache.getMany(keys)
      expect(left.filter((value) => value === undefined)).toHaveLength(10)
      expect(await client.exists(`${prefix}item:15`)).toBe(0)
      expect(await client.exists(`${prefix}item:5`)).toBe(1)
    })

    it('clears a namespace on every layer and leaves the rest', async () => {
      const prefix = uniquePrefix('clear')
      const { cache } = twoTier(prefix)
      const ns = cache.namespace('tenant-1')
      await ns.mset(Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: i })))
      await cache.set('root', 'kept')
      await ns.clear()
      expect(await ns.getMany(['k1', 'k2', 'k29'])).toEqual([undefined, undefined, undefined])
      expect(await cache.get('root')).toBe('kept')
      expect(await client.exists(`${prefix}tenant-1:k1`)).toBe(0)
    })

    it('reads many keys across slots in one call per layer, in order', async () => {
      const prefix = uniquePrefix('mget')
      const writer = twoTier(prefix)
      await writer.cache.mset(Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: i })))
      const reader = twoTier(prefix)
      expect(await reader.cache.getMany(['k3', 'k19', 'nope', 'k3'])).toEqual([3, 19, undefined, 3])
    })

    it('shares key generations through Redis', async () => {
      const prefix = uniquePrefix('generation')
      const a = twoTier(prefix, { generation: 1 })
      await a.cache.set('k', 'old')
      await a.cache.bumpGeneration()
      const b = twoTier(prefix, { generation: 1 })
      await b.cache.ready()
      expect(b.cache.getGeneration()).toBe(2)
      expect(await b.cache.get('k')).toBeUndefined()
    })

    it('runs the factory once for 1,000 concurrent cold reads', async () => {
      const prefix = uniquePrefix('stampede')
      const { cache } = twoTier(prefix)
      let calls = 0
      const values = await Promise.all(
        Array.from({ length: 1000 }, () =>
          cache.getOrSet('hot', async () => {
            calls++
            await new Promise((resolve) => setTimeout(resolve, 20))
            return 'computed'
          }),
        ),
      )
      expect(calls).toBe(1)
      expect(new Set(values)).toEqual(new Set(['computed']))
      expect(await client.exists(`${prefix}hot`)).toBe(1)
    })
  })
}

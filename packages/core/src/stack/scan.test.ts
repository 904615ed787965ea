import { tracingChannel } from 'node:diagnostics_channel'
import type { Cluster, Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createTestCluster, createTestRedis, uniquePrefix } from '../../../../tools/test-redis.ts'
import { CacheStack, type CacheStackOptions } from '../cache-stack.ts'
import {
  MemoryLayer,
  OPERATION_CHANNEL,
  type OperationContext,
  RedisLayer,
  storedGeneration,
} from '../index.ts'
import { createManualClock } from '../testing/index.ts'

async function all(keys: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = []
  for await (const key of keys) out.push(key)
  return out.sort()
}

for (const kind of ['single server', 'cluster'] as const) {
  describe(`keys(), prune() and storedGeneration() on Redis (${kind})`, () => {
    let client: Redis | Cluster
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
    function redisOnly(prefix: string, options: CacheStackOptions = {}): CacheStack {
      const cache = new CacheStack([new RedisLayer({ client, prefix })], options)
      stacks.push(cache)
      return cache
    }
    function twoTier(prefix: string, options: CacheStackOptions = {}): CacheStack {
      const cache = new CacheStack([new MemoryLayer(), new RedisLayer({ client, prefix })], options)
      stacks.push(cache)
      return cache
    }

    it('lists keys as set() took them, per namespace and prefix, without bookkeeping keys or repeats', async () => {
      const prefix = uniquePrefix('keys')
      const app = twoTier(prefix)
      // 40 keys spread over the masters of a cluster, a namespace, and a tag state in Redis (__cs:tag:...).
      for (let i = 0; i < 40; i++) await app.set(`item:${i}`, i, { tags: ['items'] })
      await app.namespace('users').set('1', 'Ada')
      await app.invalidateByTag('nothing-carries-this')
      const keys = await all(app.keys())
      expect(keys).toHaveLength(41)
      expect(keys).toContain('users:1')
      expect(keys.some((key) => key.startsWith('__cs:'))).toBe(false)
      expect(await all(app.keys('item:1'))).toEqual([
        'item:1',
        'item:10',
        'item:11',
        'item:12',
        'item:13',
        'item:14',
        'item:15',
        'item:16',
        'item:17',
        'item:18',
        'item:19',
      ])
      expect(await all(app.namespace('users').keys())).toEqual(['1'])
      // Another process sees the same keys from Redis alone.
      expect(await all(redisOnly(prefix).keys('users:'))).toEqual(['users:1'])
    })

    it('lists the current generation only, without its g<n>: prefix', async () => {
      const prefix = uniquePrefix('keys-gen')
      const app = redisOnly(prefix, { generation: 1 })
      await app.set('a', 1)
      await app.bumpGeneration()
      await app.set('b', 2)
      expect(await all(app.keys())).toEqual(['b'])
      expect(await storedGeneration([new MemoryLayer(), new RedisLayer({ client, prefix })])).toBe(2)
      expect(await storedGeneration([new RedisLayer({ client, prefix: uniquePrefix('none') })])).toBe(
        undefined,
      )
    })

    it('prunes expired, tag-invalidated and old-generation keys, and keeps live ones', async () => {
      const prefix = uniquePrefix('prune')
      const clock = createManualClock(Date.now())
      const app = redisOnly(prefix, { clock, generation: 1 })
      await app.set('old', 'x', { ttl: '1h' })
      await app.bumpGeneration()
      await app.set('short', 1, { ttl: '10s' })
      await app.set('tagged', 2, { ttl: '1h', tags: ['t'] })
      await app.set('live', 3, { ttl: '1h' })
      await app.namespace('ns').set('kept', 4, { ttl: '1h', tags: ['t'] })
      // Another instance invalidates the tag: the pruner learns of it from Redis while pruning.
      clock.advance(1)
      await redisOnly(prefix, { clock, generation: 2 }).namespace('ns').invalidateByTag('other')
      await redisOnly(prefix, { clock, generation: 2 }).invalidateByTag('t')
      clock.advance(1)
      await app.namespace('ns').set('kept', 4, { ttl: '1h', tags: ['t'] })
      // Redis keeps 'short' (its PX counts real time); by the stack's clock it is past its end.
      clock.advance(20_000)

      const pruner = redisOnly(prefix, { clock, generation: 2 })
      const result = await pruner.prune()
      expect(result).toEqual({ scanned: 5, removed: 3, expired: 1, invalidated: 1, oldGenerations: 1 })
      expect(await all(pruner.keys())).toEqual(['live', 'ns:kept'])
      expect(await pruner.prune()).toMatchObject({ scanned: 2, removed: 0 })
    })

    it('a namespace prunes only its own keys', async () => {
      const prefix = uniquePrefix('prune-ns')
      const clock = createManualClock(Date.now())
      const app = redisOnly(prefix, { clock })
      await app.set('root', 1, { ttl: '10s' })
      await app.namespace('a').set('x', 1, { ttl: '10s' })
      await app.namespace('a').set('y', 1, { ttl: '1h' })
      clock.advance(20_000)
      expect(await app.namespace('a').prune()).toMatchObject({ scanned: 2, expired: 1, removed: 1 })
      expect(await all(redisOnly(prefix, { clock }).keys())).toEqual(['a:y', 'root'])
    })
  })
}

describe('prune() on cachestack:operation', () => {
  it('is published once per call, with its namespace', async () => {
    const channel = tracingChannel<unknown, OperationContext>(OPERATION_CHANNEL)
    const ended: string[] = []
    const handlers = {
      start: () => {},
      end: () => {},
      asyncStart: () => {},
      asyncEnd: (message: OperationContext) => {
        ended.push(`${message.operation} ${message.namespace}`)
      },
      error: () => {},
    }
    channel.subscribe(handlers)
    const cache = new CacheStack([new MemoryLayer()])
    try {
      await cache.prune()
      await cache.namespace('a').prune()
      expect(ended).toEqual(['prune ', 'prune a:'])
    } finally {
      channel.unsubscribe(handlers)
      await cache.disconnect()
    }
  })
})

import type { Cluster, Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createTestCluster, createTestRedis, uniquePrefix } from '../../../../tools/test-redis.ts'
import { CacheStack } from '../cache-stack.ts'
import { LayerError, LockNotAcquiredError, ValidationError } from '../errors.ts'
import { MemcachedLayer } from '../layers/memcached-layer.ts'
import { MemoryLayer } from '../layers/memory-layer.ts'
import { RedisLayer } from '../layers/redis-layer.ts'

const redis = createTestRedis()
const cluster = createTestCluster()
const caches: CacheStack[] = []
afterEach(async () => {
  await Promise.all(caches.splice(0).map((cache) => cache.disconnect()))
})
afterAll(async () => {
  await Promise.all([redis.quit(), cluster.quit()])
})

interface Setup {
  cache: CacheStack
  /** Moves time forward: the fake clock in memory, real time (by waiting for a lock) on Redis. */
  expireAfter(ms: number): Promise<void>
}

function memorySetup(): Setup {
  let now = 1_000_000
  const cache = new CacheStack([new MemoryLayer()], { clock: { now: () => now } })
  return {
    cache,
    expireAfter: async (ms) => {
      now += ms
    },
  }
}

function redisSetup(client: Redis | Cluster): () => Setup {
  return () => {
    const cache = new CacheStack([
      new MemoryLayer(),
      new RedisLayer({ client, prefix: uniquePrefix('lock') }),
    ])
    caches.push(cache)
    return {
      cache,
      // A real TTL on the server: a waiting lock on a probe key of the same ttl shows when it is gone.
      expireAfter: async (ms) => {
        const probe = await cache.lock('probe', { ttl: ms })
        expect(probe.acquired).toBe(true)
        const next = await cache.lock('probe', { ttl: ms, wait: '5s', retryDelay: 10 })
        expect(next.acquired).toBe(true)
        await next.release()
      },
    }
  }
}

describe.each([
  ['memory', memorySetup],
  ['a single Redis', redisSetup(redis)],
  ['a Redis Cluster', redisSetup(cluster)],
])('locks on %s', (_label, setup) => {
  it('answers at once: one holder, the other call gets acquired: false', async () => {
    const { cache } = setup()
    const first = await cache.lock('job', { ttl: '10s' })
    const second = await cache.lock('job', { ttl: '10s' })
    expect(first.acquired).toBe(true)
    expect(second.acquired).toBe(false)
    expect(first.owner).not.toBe(second.owner)
    expect(await second.release()).toBe(false)
    expect(await second.extend()).toBe(false)
    expect(await first.release()).toBe(true)
    expect(await first.release()).toBe(false)
    expect((await cache.lock('job', { ttl: '10s' })).acquired).toBe(true)
  })

  it('lets only the owner release or extend', async () => {
    const { cache } = setup()
    expect(await cache.acquire('record:1', 'alice', 10_000)).toBe(true)
    expect(await cache.acquire('record:1', 'bob', 10_000)).toBe(false)
    expect(await cache.exists('record:1', 'alice')).toBe(true)
    expect(await cache.exists('record:1', 'bob')).toBe(false)
    expect(await cache.release('record:1', 'bob')).toBe(false)
    expect(await cache.exists('record:1', 'alice')).toBe(true)
    const intruder = await cache.lock('record:1', { ttl: '1m', owner: 'bob' })
    expect(intruder.acquired).toBe(false)
    expect(await intruder.extend('1h')).toBe(false)
    expect(await cache.release('record:1', 'alice')).toBe(true)
    expect(await cache.exists('record:1', 'alice')).toBe(false)
  })

  it('frees a lock whose holder never releases it after its ttl', async () => {
    const { cache, expireAfter } = setup()
    expect((await cache.lock('orphan', { ttl: 150 })).acquired).toBe(true)
    expect((await cache.lock('orphan', { ttl: 150 })).acquired).toBe(false)
    await expireAfter(150)
    expect((await cache.lock('orphan', { ttl: 150 })).acquired).toBe(true)
  })

  it('extends: the holder keeps the lock past its first ttl', async () => {
    const { cache, expireAfter } = setup()
    const held = await cache.lock('long', { ttl: 150 })
    expect(await held.extend('1h')).toBe(true)
    await expireAfter(150)
    expect((await cache.lock('long', { ttl: 150 })).acquired).toBe(false)
    expect(await held.release()).toBe(true)
  })

  it('waits for a release within `wait`', async () => {
    const { cache } = setup()
    const first = await cache.lock('queue', { ttl: '1m' })
    const waiting = cache.lock('queue', { ttl: '1m', wait: '1m' })
    await first.release()
    const second = await waiting
    expect(second.acquired).toBe(true)
    await second.release()
  })

  it('withLock runs the function holding the lock, releases it after, even when it throws', async () => {
    const { cache } = setup()
    const result = await cache.withLock(
      'section',
      async (held) => {
        expect(held.acquired).toBe(true)
        expect(await cache.exists('section', held.owner)).toBe(true)
        expect((await cache.lock('section', { ttl: '1m' })).acquired).toBe(false)
        return 42
      },
      { ttl: '1m' },
    )
    expect(result).toBe(42)
    await expect(
      cache.withLock('section', () => Promise.reject(new Error('boom')), { ttl: '1m' }),
    ).rejects.toThrow('boom')
    const after = await cache.lock('section', { ttl: '1m' })
    expect(after.acquired).toBe(true)
    const refused = cache.withLock('section', () => 'never', { ttl: '1m' })
    await expect(refused).rejects.toBeInstanceOf(LockNotAcquiredError)
    await expect(refused).rejects.toMatchObject({ code: 'E_LOCK_NOT_ACQUIRED', key: 'section' })
  })

  it('keeps namespaces apart', async () => {
    const { cache } = setup()
    expect((await cache.namespace('a').lock('k', { ttl: '1m' })).acquired).toBe(true)
    expect((await cache.namespace('b').lock('k', { ttl: '1m' })).acquired).toBe(true)
    expect((await cache.lock('k', { ttl: '1m' })).acquired).toBe(true)
    expect((await cache.namespace('a').lock('k', { ttl: '1m' })).acquired).toBe(false)
  })
})

describe('lock on the fake clock', () => {
  it('gives up after `wait` measured on the stack clock', async () => {
    let now = 0
    const cache = new CacheStack([new MemoryLayer()], { clock: { now: () => now } })
    await cache.lock('k', { ttl: '1h' })
    const waiting = cache.lock('k', { ttl: '1h', wait: '10s', retryDelay: 5 })
    now += 10_000
    expect((await waiting).acquired).toBe(false)
    const refused = cache.withLock('k', () => 1, { ttl: '1h', wait: '10s', retryDelay: 5 })
    now += 10_000
    await expect(refused).rejects.toMatchObject({ code: 'E_LOCK_NOT_ACQUIRED', waited: 10_000 })
  })
})

describe('lock options', () => {
  const cache = new CacheStack()

  it('refuses unknown options and bad values, naming them', async () => {
    await expect(cache.lock('k', { ttl: '1s', wiat: '1s' } as never)).rejects.toThrow(
      '"wiat" is not an option of lock(); did you mean "wait"?',
    )
    await expect(cache.lock('k', {} as never)).rejects.toMatchObject({ option: 'ttl' })
    await expect(cache.lock('k', { ttl: 0 })).rejects.toBeInstanceOf(ValidationError)
    await expect(cache.lock('', { ttl: '1s' })).rejects.toMatchObject({ option: 'key' })
    await expect(cache.lock('k', { ttl: '1s', owner: '' })).rejects.toMatchObject({ option: 'owner' })
    await expect(cache.withLock('k', () => 1, { ttl: '1s', autoExtnd: true } as never)).rejects.toThrow(
      'did you mean "autoExtend"?',
    )
    await expect(cache.lock('k', undefined as never)).rejects.toMatchObject({ option: 'options' })
  })

  it('refuses a stack whose shared layer is not Redis: a per-process lock would not hold across instances', async () => {
    const stack = new CacheStack([
      new MemoryLayer(),
      new MemcachedLayer({
        servers: process.env.CACHESTACK_TEST_MEMCACHED!,
        prefix: uniquePrefix('lock-mc'),
      }),
    ])
    caches.push(stack)
    await expect(stack.lock('k', { ttl: '1s' })).rejects.toMatchObject({ option: 'layers' })
    await expect(stack.rateLimit({ key: 'k', limit: 1, window: '1s' })).rejects.toThrow('need a RedisLayer')
  })

  it('fails with a LayerError, never "acquired", when Redis does not answer', async () => {
    const prefix = uniquePrefix('lock-down')
    const client = createTestRedis()
    const stack = new CacheStack([new RedisLayer({ client, prefix, commandTimeout: 200 })])
    await stack.ready()
    client.disconnect()
    await expect(stack.lock('k', { ttl: '1s' })).rejects.toBeInstanceOf(LayerError)
    await stack.disconnect()
  })
})

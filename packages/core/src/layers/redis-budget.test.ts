import type { Cluster, Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createTestCluster, createTestRedis, uniquePrefix } from '../../../../tools/test-redis.ts'
import { CacheStack } from '../cache-stack.ts'
import { ValidationError } from '../errors.ts'
import { RedisLayer } from './redis-layer.ts'

const redis = createTestRedis()
const cluster = createTestCluster()
const caches: CacheStack[] = []
afterEach(async () => {
  await Promise.all(caches.splice(0).map((cache) => cache.disconnect()))
})
afterAll(async () => {
  await Promise.all([redis.quit(), cluster.quit()])
})

const PAYLOAD = 'x'.repeat(1_000)

/** A Redis-only stack (every read reaches Redis) with a 10 kB budget, on a fake clock. */
function setup(client: Redis | Cluster) {
  let now = 1_700_000_000_000
  const prefix = uniquePrefix('budget')
  const layer = new RedisLayer({ client, prefix, budget: '10kb' })
  const cache = new CacheStack([layer], { clock: { now: () => now }, ttl: '1h' })
  caches.push(cache)
  const exists = async (key: string) => (await client.exists(prefix + key)) === 1
  return {
    cache,
    layer,
    prefix,
    exists,
    tick: () => {
      now += 1_000
    },
    advance: (ms: number) => {
      now += ms
    },
  }
}

describe.each([
  ['a single Redis', redis],
  ['a Redis Cluster', cluster],
] as const)('RedisLayer budget on %s', (_label, client) => {
  it('removes the least recently used entries once writes pass the budget', async () => {
    const { cache, layer, exists, tick } = setup(client)
    for (let i = 0; i < 8; i++) {
      await cache.set(`k${i}`, PAYLOAD)
      tick()
    }
    // k0 and k1 are read again: the least recently used are now k2, k3...
    expect(await cache.get('k0')).toBe(PAYLOAD)
    expect(await cache.get('k1')).toBe(PAYLOAD)
    tick()
    for (let i = 8; i < 30; i++) {
      await cache.set(`k${i}`, PAYLOAD)
      tick()
      expect((await layer.budget!.usage()).bytes).toBeLessThanOrEqual(10_240)
    }
    const present = []
    for (let i = 0; i < 30; i++) if (await exists(`k${i}`)) present.push(i)
    // ~1,040 bytes each (payload as JSON in the entry, plus the key): 9 fit in 10 kB, the newest ones.
    expect(present).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29])
    const usage = await layer.budget!.usage()
    expect(usage.entries).toBe(9)
  })

  it('keeps recently read entries over older unread ones', async () => {
    const { cache, exists, tick } = setup(client)
    await cache.set('hot', PAYLOAD)
    tick()
    for (let i = 0; i < 40; i++) {
      await cache.set(`cold${i}`, PAYLOAD)
      tick()
      expect(await cache.get('hot')).toBe(PAYLOAD)
      tick()
    }
    expect(await exists('hot')).toBe(true)
    expect(await exists('cold0')).toBe(false)
  })

  it('sends a last-use time at most once a second per key: a hot key costs one ZADD a second', async () => {
    const { cache, prefix, advance } = setup(client)
    const lru = `${prefix}{${prefix}__cs:budget}:lru`
    await cache.set('hot', PAYLOAD)
    const written = Number(await client.zscore(lru, 'hot'))
    advance(500)
    await cache.get('hot')
    await cache.get('hot')
    expect(Number(await client.zscore(lru, 'hot'))).toBe(written)
    advance(600)
    await cache.get('hot')
    expect(Number(await client.zscore(lru, 'hot'))).toBe(written + 1_100)
  })

  it('never counts or removes tag states, locks and rate-limit windows', async () => {
    const { cache, layer, prefix, tick } = setup(client)
    await cache.set('tagged', PAYLOAD, { tags: ['t'] })
    await cache.invalidateByTag('t')
    const held = await cache.lock('job', { ttl: '1h' })
    await cache.rateLimit({ key: 'api', limit: 5, window: '1h' })
    for (let i = 0; i < 30; i++) {
      await cache.set(`k${i}`, PAYLOAD)
      tick()
    }
    expect(held.acquired).toBe(true)
    expect(await client.exists(`${prefix}__cs:tag:t`)).toBe(1)
    expect(await client.exists(`${prefix}__cs:lock:job`)).toBe(1)
    expect(await client.exists(`${prefix}__cs:rate:api`)).toBe(1)
    expect((await cache.lock('job', { ttl: '1h' })).acquired).toBe(false)
    expect((await layer.budget!.usage()).entries).toBe(9)
  })

  it('takes deleted entries out of the count', async () => {
    const { cache, layer } = setup(client)
    await cache.set('a', PAYLOAD)
    await cache.set('b', PAYLOAD)
    const before = (await layer.budget!.usage()).bytes
    await cache.delete('a')
    await cache.deleteMany(['b', 'never-written'])
    expect(before).toBeGreaterThan(2_000)
    expect(await layer.budget!.usage()).toEqual({ bytes: 0, entries: 0 })
  })

  it('keeps an entry larger than the whole budget, removing the others', async () => {
    const { cache, layer, exists } = setup(client)
    await cache.set('small', 'x')
    await cache.set('huge', 'y'.repeat(20_000))
    expect(await exists('huge')).toBe(true)
    expect(await exists('small')).toBe(false)
    expect((await layer.budget!.usage()).entries).toBe(1)
  })
})

describe('budget option', () => {
  it('refuses a budget that is not a size, naming it', () => {
    expect(() => new RedisLayer({ client: redis, budget: 'lots' as never })).toThrow(ValidationError)
    expect(() => new RedisLayer({ client: redis, budget: 0 })).toThrow('"budget"')
    expect(() => new RedisLayer({ client: redis, budjet: '1mb' } as never)).toThrow('did you mean "budget"?')
  })
})

import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestRedis, uniquePrefix } from '../../../tools/test-redis.ts'
import { CacheStack } from './cache-stack.ts'
import { MemoryLayer } from './layers/memory-layer.ts'
import { RedisLayer } from './layers/redis-layer.ts'
import { createTestCache } from './test-cache.ts'

async function keysUnder(client: Redis, pattern: string): Promise<string[]> {
  const found: string[] = []
  let cursor = '0'
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
    cursor = next
    found.push(...keys)
  } while (cursor !== '0')
  return found
}

describe('createTestCache on a shared Redis stack', () => {
  let client: Redis
  let shared: CacheStack
  const prefix = uniquePrefix('test-cache')
  beforeAll(() => {
    client = createTestRedis()
    shared = new CacheStack([new MemoryLayer(), new RedisLayer({ client, prefix })])
  })
  afterAll(async () => {
    await shared.disconnect()
    await client.quit()
  })

  it('two tests never see each other, and cleanup() leaves nothing of its namespace', async () => {
    const one = createTestCache(shared)
    const two = createTestCache(shared)
    await one.cache.set('user:1', 'one', { tags: ['users'] })
    await two.cache.set('user:1', 'two')
    const visits = (cache: CacheStack) => cache.keyspace({ kind: 'int', pattern: 'visits/:page' })
    await visits(one.cache).increment({ page: 'home' }, 5)
    await visits(two.cache).increment({ page: 'home' })
    await one.cache.invalidateByTag('users')
    await one.cache.set('user:2', 'kept until cleanup', { tags: ['users'] })
    const held = await one.cache.lock('job', { ttl: '1h' })
    await one.cache.rateLimit({ key: 'api', limit: 5, window: '1h' })
    expect(held.acquired).toBe(true)
    expect(await two.cache.get('user:1')).toBe('two')
    expect(await visits(two.cache).get({ page: 'home' })).toBe(1)
    expect(await keysUnder(client, `${prefix}*${one.namespace}*`)).toHaveLength(6) // two entries, a tag state, a counter, a lock, a rate window

    await one.cleanup()
    expect(await keysUnder(client, `${prefix}*${one.namespace}*`)).toEqual([])
    expect(await one.cache.get('user:2')).toBeUndefined()
    expect(await visits(one.cache).get({ page: 'home' })).toBeUndefined()
    expect(await two.cache.get('user:1')).toBe('two')
    expect(await visits(two.cache).get({ page: 'home' })).toBe(1)
    await two.cleanup()
  })

  it('without a stack: an in-memory one of its own, disconnected by cleanup()', async () => {
    const { cache, cleanup } = createTestCache()
    await cache.set('a', 1)
    expect(await cache.get('a')).toBe(1)
    await cleanup()
    await expect(cache.get('a')).rejects.toMatchObject({ code: 'E_DISCONNECTED' })
  })
})

import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createTestRedis, uniquePrefix } from '../../../../tools/test-redis.ts'
import { CacheStack } from '../cache-stack.ts'
import { RedisLayer } from '../index.ts'

// A tag state must outlive every entry it could kill. An instance that wrote no long-lived entry (the
// admin CLI, a worker) invalidating the tag again must not cut the retention another instance chose.
describe('tag state retention in Redis', () => {
  const client = createTestRedis()
  const stacks: CacheStack[] = []
  const stack = (prefix: string) => {
    const cache = new CacheStack([new RedisLayer({ client, prefix })])
    stacks.push(cache)
    return cache
  }
  afterEach(async () => {
    await Promise.all(stacks.splice(0).map((cache) => cache.disconnect()))
  })
  afterAll(async () => {
    await client.quit()
  })
  const DAY = 86_400_000

  it('a forever state stays forever when another instance invalidates the tag again', async () => {
    const prefix = uniquePrefix('tag-retention')
    const app = stack(prefix)
    await app.setForever('e', 1, { tags: ['t'] })
    await app.invalidateByTag('t')
    expect(await client.pttl(`${prefix}__cs:tag:t`)).toBe(-1)
    await stack(prefix).invalidateByTag('t')
    expect(await client.pttl(`${prefix}__cs:tag:t`)).toBe(-1)
    // The entry written before is dead for a newcomer that reads it from Redis, today as in a year.
    expect(await stack(prefix).get('e')).toBeUndefined()
  })

  it('a three-day state is not cut to one day', async () => {
    const prefix = uniquePrefix('tag-retention')
    const app = stack(prefix)
    await app.set('e', 1, { ttl: '3d', tags: ['t'] })
    await app.invalidateByTag('t')
    await stack(prefix).invalidateByTag('t')
    expect(await client.pttl(`${prefix}__cs:tag:t`)).toBeGreaterThan(2 * DAY)
  })
})

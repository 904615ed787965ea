import type { Cluster, Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createTestCluster, createTestRedis, uniquePrefix } from '../../../../tools/test-redis.ts'
import { CacheStack, type CacheStackOptions } from '../cache-stack.ts'
import { MemoryLayer, RedisLayer } from '../index.ts'
import { createManualClock } from '../testing/index.ts'

for (const kind of ['single server', 'cluster'] as const) {
  describe(`snapshots on memory + Redis (${kind})`, () => {
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
    function twoTier(prefix: string, options: CacheStackOptions = {}): CacheStack {
      const cache = new CacheStack([new MemoryLayer(), new RedisLayer({ client, prefix })], options)
      stacks.push(cache)
      return cache
    }

    it('exports what only Redis holds and restores it, ttl and tags included, on another prefix', async () => {
      const clock = createManualClock(Date.now())
      const from = uniquePrefix('snap-from')
      await twoTier(from, { clock }).set('user:1', { name: 'Ada' }, { ttl: '60s', tags: ['users'] })
      await twoTier(from, { clock }).set('user:2', { name: 'Bob' }, { ttl: '60s' })
      // A second instance: its memory layer is empty, so every entry comes from a SCAN of Redis.
      const snapshot = await twoTier(from, { clock }).exportState()
      expect(snapshot.entries.map((e) => e.key).sort()).toEqual(['user:1', 'user:2'])
      expect(snapshot.entries.find((e) => e.key === 'user:1')?.tags).toEqual(['users'])

      clock.advance(15_000)
      const to = uniquePrefix('snap-to')
      const target = twoTier(to, { clock })
      expect(await target.importState(snapshot)).toMatchObject({ restored: 2 })
      const reader = twoTier(to, { clock })
      expect(await reader.get('user:1')).toEqual({ name: 'Ada' })
      expect(await reader.ttl('user:1')).toBe(45_000)
      await reader.invalidateByTag('users')
      expect(await twoTier(to, { clock }).get('user:1')).toBeUndefined()
      expect(await twoTier(to, { clock }).get('user:2')).toEqual({ name: 'Bob' })
    })

    it('a tag invalidated in Redis after the snapshot keeps the restored entry dead on every instance', async () => {
      const clock = createManualClock(Date.now())
      const prefix = uniquePrefix('snap-tag')
      const writer = twoTier(prefix, { clock })
      await writer.set('a', 1, { ttl: '1h', tags: ['t'] })
      const snapshot = await writer.exportState()
      clock.advance(1)
      await twoTier(prefix, { clock }).invalidateByTag('t')
      await writer.delete('a')
      // A new instance knows nothing of the invalidation locally; Redis does.
      const restorer = twoTier(prefix, { clock })
      await restorer.importState(snapshot)
      expect(await restorer.get('a')).toBeUndefined()
      expect(await twoTier(prefix, { clock }).get('a')).toBeUndefined()
    })
  })
}

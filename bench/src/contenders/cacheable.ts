// cacheable with its defaults: CacheableMemory as primary (clones on read), `@keyv/redis` as the
// secondary for two-tier, or as the only (primary) store for Redis-only. Tags are a switch
// (`tags: true`) that adds a tag-version check to every read, so only the tag scenarios turn it on.
import KeyvRedis, { Keyv } from '@keyv/redis'
import { Cacheable } from 'cacheable'
import type { CacheAdapter, Contender, Tier } from './types.ts'

export const cacheableContender: Contender = {
  name: 'cacheable',
  kind: 'peer',
  packages: ['cacheable', '@keyv/redis'],
  tiers: ['memory', 'redis', 'two-tier'],
  supportsTags: true,
  async create(tier: Tier, env, options): Promise<CacheAdapter> {
    const redisStore = () => new Keyv({ store: new KeyvRedis(env.redis.url), namespace: options.prefix })
    const cache = new Cacheable({
      ttl: env.ttlMs,
      namespace: options.prefix,
      tags: options.tags === true,
      ...(tier === 'redis' ? { primary: redisStore() } : {}),
      ...(tier === 'two-tier' ? { secondary: redisStore() } : {}),
    })
    await cache.get('__warm__')
    return {
      get: (key) => cache.get(key),
      set: (key, value, o) => cache.set(key, value, o?.tags ? { tags: o.tags } : undefined),
      getOrSet: (key, factory) => cache.getOrSet(key, factory),
      invalidateTag: (tag) => cache.tags.invalidateTag(tag),
      clear: () => cache.clear(),
      async close() {
        await cache.disconnect()
      },
    }
  },
}

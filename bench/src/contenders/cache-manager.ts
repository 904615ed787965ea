// cache-manager v7 as its README sets it up: Keyv stores, `new Keyv()` (a Map) in memory and
// `@keyv/redis` for Redis. It has no tags, so it sits out the tag scenarios.
import KeyvRedis, { Keyv } from '@keyv/redis'
import { createCache } from 'cache-manager'
import type { CacheAdapter, Contender, Tier } from './types.ts'

export const cacheManagerContender: Contender = {
  name: 'cache-manager',
  kind: 'peer',
  packages: ['cache-manager', 'keyv', '@keyv/redis'],
  tiers: ['memory', 'redis', 'two-tier'],
  supportsTags: false,
  async create(tier: Tier, env, options): Promise<CacheAdapter> {
    const stores: Keyv[] = []
    if (tier !== 'redis') stores.push(new Keyv({ namespace: options.prefix }))
    if (tier !== 'memory') {
      stores.push(new Keyv({ store: new KeyvRedis(env.redis.url), namespace: options.prefix }))
    }
    const cache = createCache({ stores, ttl: env.ttlMs })
    // Connect before timing so the first measured call does not pay for the handshake.
    await cache.get('__warm__')
    return {
      get: (key) => cache.get(key),
      set: (key, value) => cache.set(key, value, env.ttlMs),
      getOrSet: (key, factory) => cache.wrap(key, factory, env.ttlMs),
      clear: () => cache.clear(),
      async close() {
        await cache.disconnect()
      },
    }
  },
}

// Bentocache with its defaults: the memory driver serializes entries (so a hit returns a copy), L2
// is its Redis driver on a connection of its own, no bus (the bench runs in one process).
import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { redisDriver } from 'bentocache/drivers/redis'
import type { CacheAdapter, Contender, Tier } from './types.ts'

export const bentocacheContender: Contender = {
  name: 'bentocache',
  kind: 'peer',
  packages: ['bentocache'],
  tiers: ['memory', 'redis', 'two-tier'],
  supportsTags: true,
  async create(tier: Tier, env, options): Promise<CacheAdapter> {
    const store = bentostore({ prefix: options.prefix })
    if (tier !== 'redis') store.useL1Layer(memoryDriver({ maxItems: options.maxItems }))
    if (tier !== 'memory') {
      store.useL2Layer(
        redisDriver({ connection: { host: env.redis.host, port: env.redis.port, db: env.redis.db } }),
      )
    }
    const bento = new BentoCache({ default: 'x', stores: { x: store }, ttl: env.ttlMs })
    const cache = bento.use('x')
    return {
      get: (key) => cache.get({ key }),
      set: (key, value, o) => cache.set({ key, value, ...(o?.tags ? { tags: o.tags } : {}) }),
      getOrSet: (key, factory, o) => cache.getOrSet({ key, factory, ...(o?.tags ? { tags: o.tags } : {}) }),
      invalidateTag: (tag) => cache.deleteByTag({ tags: [tag] }),
      clear: () => cache.clear(),
      async close() {
        await bento.disconnectAll()
      },
    }
  },
}

// Floors, not libraries: what the same work costs with no cache machinery at all. None of them
// protects against stampedes or copies values; they are here to turn the libraries' numbers into
// "cost over the raw operation".
import { Redis } from 'ioredis'
import { LRUCache } from 'lru-cache'
import type { CacheAdapter, Contender } from './types.ts'

function mapAdapter(map: Map<string, unknown> | LRUCache<string, object>): CacheAdapter {
  const store = map as Map<string, unknown>
  return {
    get: (key) => store.get(key),
    async set(key, value) {
      store.set(key, value)
    },
    async getOrSet(key, factory) {
      let value = store.get(key)
      if (value === undefined) {
        value = await factory()
        store.set(key, value)
      }
      return value
    },
    async clear() {
      store.clear()
    },
    async close() {
      store.clear()
    },
  }
}

export const mapBaseline: Contender = {
  name: 'Map',
  kind: 'baseline',
  packages: [],
  tiers: ['memory'],
  supportsTags: false,
  async create() {
    return mapAdapter(new Map())
  },
}

export const lruBaseline: Contender = {
  name: 'lru-cache',
  kind: 'baseline',
  packages: ['lru-cache'],
  tiers: ['memory'],
  supportsTags: false,
  async create(_tier, env, options) {
    return mapAdapter(new LRUCache<string, object>({ max: options.maxItems, ttl: env.ttlMs }))
  },
}

export const ioredisBaseline: Contender = {
  name: 'ioredis GET+JSON',
  kind: 'baseline',
  packages: ['ioredis'],
  tiers: ['redis'],
  supportsTags: false,
  async create(_tier, env, options) {
    const client = new Redis({ host: env.redis.host, port: env.redis.port, db: env.redis.db })
    await client.ping()
    const prefix = options.prefix
    const get = async (key: string): Promise<unknown> => {
      const raw = await client.get(prefix + key)
      return raw === null ? undefined : JSON.parse(raw)
    }
    return {
      get,
      async set(key, value) {
        await client.set(prefix + key, JSON.stringify(value), 'PX', env.ttlMs)
      },
      async getOrSet(key, factory) {
        let value = await get(key)
        if (value === undefined) {
          value = await factory()
          await client.set(prefix + key, JSON.stringify(value), 'PX', env.ttlMs)
        }
        return value
      },
      async clear() {},
      async close() {
        await client.quit()
      },
    }
  },
}

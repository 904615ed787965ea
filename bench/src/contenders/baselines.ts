// Floors, not libraries: what the same work costs with no cache machinery at all. None of them
// protects against stampedes or copies values; they are here to turn the libraries' numbers into
// "cost over the raw operation".
import { Redis } from 'ioredis'
import { LRUCache } from 'lru-cache'
import type { BenchEnv, CacheAdapter, Contender } from './types.ts'

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

/** A raw ioredis connection, and the JSON reads and writes both Redis floors make on it. */
async function rawRedis(env: BenchEnv, prefix: string) {
  const client = new Redis({ host: env.redis.host, port: env.redis.port, db: env.redis.db })
  await client.ping()
  const adapter = {
    async get(key: string): Promise<unknown> {
      const raw = await client.get(prefix + key)
      return raw === null ? undefined : JSON.parse(raw)
    },
    async set(key: string, value: unknown): Promise<void> {
      await client.set(prefix + key, JSON.stringify(value), 'PX', env.ttlMs)
    },
    async clear() {},
    async close() {
      await client.quit()
    },
  }
  return { client, adapter }
}

export const ioredisBaseline: Contender = {
  name: 'ioredis GET+JSON',
  kind: 'baseline',
  packages: ['ioredis'],
  tiers: ['redis'],
  supportsTags: false,
  async create(_tier, env, options) {
    const { adapter: raw } = await rawRedis(env, options.prefix)
    return {
      ...raw,
      async getOrSet(key, factory) {
        let value = await raw.get(key)
        if (value === undefined) {
          value = await factory()
          await raw.set(key, value)
        }
        return value
      },
    }
  },
}

/**
 * The floor of a tag invalidation on memory + Redis with a bus: one pipelined round trip holding a
 * `SET` (the tag's state) and a `PUBLISH` (the message to other instances). Not a cache: it only
 * answers `invalidateTag`, and the scenario does not check its reads.
 */
export const setPublishBaseline: Contender = {
  name: 'ioredis SET+PUBLISH pipelined',
  kind: 'baseline',
  packages: ['ioredis'],
  tiers: ['two-tier'],
  supportsTags: true,
  async create(_tier, env, options) {
    const client = new Redis({ host: env.redis.host, port: env.redis.port, db: env.redis.db })
    await client.ping()
    const store = new Map<string, unknown>()
    const state = JSON.stringify({ value: { hard: Date.now() + 0.5, soft: 0 }, createdAt: 0 })
    const message = JSON.stringify({ v: 1, type: 'tags', names: ['inv:0:0'], mode: 'hard', at: Date.now() })
    return {
      get: (key) => store.get(key),
      async set(key, value) {
        store.set(key, value)
      },
      async getOrSet(key, factory) {
        if (!store.has(key)) store.set(key, await factory())
        return store.get(key)
      },
      async invalidateTag(tag) {
        await client
          .pipeline()
          .set(`${options.prefix}:__cs:tag:${tag}`, state, 'PX', 86_400_000)
          .publish(`${options.prefix}:bus`, message)
          .exec()
      },
      async clear() {
        store.clear()
      },
      async close() {
        await client.quit()
      },
    }
  },
}

/**
 * The floor of a first read after an invalidation on memory + Redis: `GET` (whatever the key holds:
 * the invalidated ~1.1 KB copy, or nothing for a never-seen key), then the factory and a `SET`. The
 * difference between its two rows is what the old copy's bytes cost on the wire and in the client,
 * which a cache that must look at Redis cannot avoid. `invalidateTag` does nothing: it stores no tags.
 */
export const readOverBaseline: Contender = {
  name: 'ioredis GET (old copy or nothing) + SET',
  kind: 'baseline',
  packages: ['ioredis'],
  tiers: ['two-tier'],
  supportsTags: true,
  async create(_tier, env, options) {
    const { client, adapter: raw } = await rawRedis(env, options.prefix)
    return {
      ...raw,
      async getOrSet(key, factory) {
        await client.get(options.prefix + key)
        const value = await factory()
        await raw.set(key, value)
        return value
      },
      async invalidateTag() {},
    }
  },
}

import { CacheStack, MemoryLayer, RedisLayer } from '@cachestack/core'

/** Memory only by default; memory in front of Redis when `REDIS_URL` is set. */
export function createCache(redisUrl = process.env.REDIS_URL): CacheStack {
  const layers = redisUrl ? [new MemoryLayer(), new RedisLayer({ url: redisUrl })] : [new MemoryLayer()]
  return new CacheStack(layers, { name: 'posts', ttl: '1m', grace: '10m' })
}

import { afterAll } from 'vitest'
import { createTestRedis, testRedisUrl, uniquePrefix } from '../../../../tools/test-redis.ts'
import { describeLayerContract } from '../testing/index.ts'
import { RedisLayer } from './redis-layer.ts'

const client = createTestRedis()
afterAll(async () => {
  await client.quit()
})

describeLayerContract('RedisLayer (json, given client)', () => {
  return new RedisLayer({ client, prefix: uniquePrefix('redis-json') })
})

describeLayerContract('RedisLayer (json, own client from url)', () => {
  return new RedisLayer({ url: testRedisUrl(), prefix: uniquePrefix('redis-url') })
})

describeLayerContract('RedisLayer (msgpack)', () => {
  return new RedisLayer({ client, serializer: 'msgpack', prefix: uniquePrefix('redis-msgpack') })
})

describeLayerContract('RedisLayer (json + gzip)', () => {
  return new RedisLayer({ client, compression: 'gzip', prefix: uniquePrefix('redis-gzip') })
})

describeLayerContract('RedisLayer (msgpack + brotli, 100-byte threshold)', () => {
  return new RedisLayer({
    client,
    serializer: 'msgpack',
    compression: 'brotli',
    compressionThreshold: 100,
    prefix: uniquePrefix('redis-brotli'),
  })
})

describeLayerContract('RedisLayer (custom serializer, command timeout)', () => {
  return new RedisLayer({
    client,
    commandTimeout: '5s',
    serializer: {
      serialize: (entry) => `custom:${JSON.stringify(entry)}`,
      deserialize: (data) => JSON.parse(data.toString('utf8').slice('custom:'.length)),
    },
    prefix: uniquePrefix('redis-custom'),
  })
})

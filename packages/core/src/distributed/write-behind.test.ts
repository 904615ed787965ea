// writeStrategy: 'write-behind' keeps the ordering of a write-through stack: a reader of the shared
// layer sees the queued write (its own instance: read-your-writes), and other instances hear of a write
// only once the shared layer holds it (told earlier, they would drop their copy, read the old value
// from Redis and keep it).
import { afterAll, describe, expect, it } from 'vitest'
import { createTestRedis, uniquePrefix } from '../../../../tools/test-redis.ts'
import { CacheStack } from '../cache-stack.ts'
import { RedisLayer } from '../layers/redis-layer.ts'
import { eventually, instance } from './test-fixtures/helpers.ts'

const client = createTestRedis()
afterAll(async () => {
  await client.quit()
})

describe('write-behind ordering', () => {
  it('a Redis-only stack reads its own queued write and does not run the factory again', async () => {
    const prefix = uniquePrefix('wb-own')
    const cache = new CacheStack([new RedisLayer({ client, prefix })], {
      writeStrategy: 'write-behind',
      writeBehind: { flushInterval: '1h' },
    })
    let calls = 0
    const factory = async () => ++calls
    expect(await cache.getOrSet('k', factory)).toBe(1)
    expect(await client.exists(`${prefix}k`)).toBe(0)
    expect(await cache.getOrSet('k', factory)).toBe(1)
    expect(await cache.get('k')).toBe(1)
    expect(calls).toBe(1)
    await cache.delete('k')
    expect(await cache.get('k')).toBeUndefined()
    await cache.disconnect()
  })

  it('another instance never keeps the value a queued write replaces', async () => {
    const prefix = uniquePrefix('wb-bus')
    const channel = `${prefix}bus`
    const writer = instance(client, prefix, channel, {
      writeStrategy: 'write-behind',
      writeBehind: { flushInterval: 150 },
    })
    const reader = instance(client, prefix, channel)
    await Promise.all([writer.stack.ready(), reader.stack.ready()])
    await writer.stack.set('k', 'old')
    await writer.stack.disconnect() // flushes 'old' to Redis
    const next = instance(client, prefix, channel, {
      writeStrategy: 'write-behind',
      writeBehind: { flushInterval: 150 },
    })
    await next.stack.ready()
    expect(await reader.stack.get('k')).toBe('old') // now in the reader's L1
    await next.stack.set('k', 'new') // queued for 150 ms
    // The reader keeps reading meanwhile, as an application would; it must end up with the new value.
    await eventually(async () => expect(await reader.stack.get('k')).toBe('new'), 2_000)
    await Promise.all([next.stack.disconnect(), reader.stack.disconnect()])
  })
})

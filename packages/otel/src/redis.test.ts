import { CacheStack, MemoryLayer, RedisLayer } from '@cachestack/core'
import type { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createTestRedis, uniquePrefix } from '../../../tools/test-redis.ts'
import { instrumentCache, keyHash } from './index.ts'
import { createTelemetry, parentId, points, useAsyncContext } from './telemetry.fixture.ts'

describe('instrumentCache on memory + Redis', () => {
  let client: Redis
  const cleanups: (() => unknown)[] = []
  beforeAll(async () => {
    useAsyncContext()
    client = createTestRedis()
    await client.ping()
  })
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  afterAll(async () => {
    await client.quit()
  })

  function instance(prefix: string) {
    const cache = new CacheStack([new MemoryLayer(), new RedisLayer({ client, prefix })])
    cleanups.push(() => cache.disconnect())
    return cache
  }

  it('traces a Redis round trip: the miss with its factory span, then a Redis hit on another instance', async () => {
    const prefix = uniquePrefix('otel')
    const telemetry = createTelemetry()
    const writer = instance(prefix)
    const reader = instance(prefix)
    await Promise.all([writer.ready(), reader.ready()])
    for (const cache of [writer, reader]) {
      const stop = instrumentCache(cache, { tracer: telemetry.tracer, meter: telemetry.meter, name: 'shop' })
      cleanups.push(stop)
    }
    cleanups.push(() => telemetry.shutdown())
    const { tracer } = telemetry
    const load = () =>
      tracer.startActiveSpan('db.query', async (span) => {
        // The write reaches Redis through the factory's own awaits: the context must survive them.
        await client.ping()
        span.end()
        return { id: 7, name: 'lamp' }
      })
    expect(await writer.getOrSet('product:7', load)).toEqual({ id: 7, name: 'lamp' })
    expect(await client.exists(`${prefix}product:7`)).toBe(1)
    expect(await reader.get('product:7')).toEqual({ id: 7, name: 'lamp' })
    expect(await reader.get('product:7')).toEqual({ id: 7, name: 'lamp' })

    const [miss, fromRedis, fromMemory] = telemetry.spans().filter((span) => span.name === 'cache.get')
    expect(miss!.attributes).toMatchObject({ 'cache.hit': false, 'cache.key.hash': keyHash('product:7') })
    expect(parentId(telemetry.span('db.query'))).toBe(miss!.spanContext().spanId)
    expect(fromRedis!.attributes).toMatchObject({ 'cache.hit': true, 'cache.layer': 'redis' })
    expect(fromMemory!.attributes).toMatchObject({ 'cache.hit': true, 'cache.layer': 'memory' })
    const counted = points(await telemetry.collect(), 'cache.operations').filter(
      ([attrs]) => attrs['cache.result'] === 'hit',
    )
    expect(counted).toEqual(
      expect.arrayContaining([
        [
          { 'cache.operation': 'get', 'cache.result': 'hit', 'cache.layer': 'redis', 'cache.name': 'shop' },
          1,
        ],
        [
          { 'cache.operation': 'get', 'cache.result': 'hit', 'cache.layer': 'memory', 'cache.name': 'shop' },
          1,
        ],
      ]),
    )
  })
})

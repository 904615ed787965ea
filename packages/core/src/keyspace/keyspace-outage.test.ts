import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPausableRedis } from '../../../../tools/test-services.ts'
import { CacheStack } from '../cache-stack.ts'
import { CommandTimeoutError, LayerError, RedisUnavailableError, ValidationError } from '../errors.ts'
import { MemoryLayer } from '../layers/memory-layer.ts'
import { PostgresLayer } from '../layers/postgres-layer.ts'
import { RedisLayer } from '../layers/redis-layer.ts'
import { expireIn } from './expiry.ts'

describe('keyspaces while Redis is away', () => {
  let server: Awaited<ReturnType<typeof startPausableRedis>>
  let client: Redis
  beforeAll(async () => {
    server = await startPausableRedis()
    client = new Redis(server.url, { maxRetriesPerRequest: 1 })
    await client.ping()
  })
  afterAll(() => {
    client.disconnect()
    server.stop()
  })

  it('a stalled Redis: the command fails with a LayerError caused by CommandTimeoutError, then fails fast', async () => {
    const cache = new CacheStack([
      new MemoryLayer(),
      new RedisLayer({ client, prefix: 'ks:', commandTimeout: 200 }),
    ])
    const counters = cache.keyspace({ kind: 'int', pattern: 'c/:id' })
    expect(await counters.increment({ id: 'a' })).toBe(1)
    server.pause()
    try {
      const first = await counters.increment({ id: 'a' }).catch((error: unknown) => error)
      expect(first).toBeInstanceOf(LayerError)
      expect((first as LayerError).cause).toBeInstanceOf(CommandTimeoutError)
      const next = await counters.get({ id: 'a' }).catch((error: unknown) => error)
      expect((next as LayerError).cause).toBeInstanceOf(RedisUnavailableError)
    } finally {
      server.resume()
    }
    await client.ping()
    // The stalled increment was queued on the connection: Redis applies it once it runs again.
    expect(await counters.increment({ id: 'a' })).toBe(3)
    await cache.disconnect()
  })

  it('clear() while Redis is away resolves (best effort, as for entries) and reports the keyspace failure', async () => {
    await client.ping()
    const cache = new CacheStack([
      new MemoryLayer(),
      new RedisLayer({ client, prefix: 'ks2:', commandTimeout: 200 }),
    ])
    const counters = cache.namespace('n').keyspace({ kind: 'int', pattern: 'c/:id' })
    await counters.increment({ id: 'a' })
    const errors: string[] = []
    cache.on('error', ({ operation }) => void errors.push(operation))
    server.pause()
    try {
      await cache.namespace('n').clear()
    } finally {
      server.resume()
    }
    expect(errors).toContain('clear')
    await client.ping()
    await cache.namespace('n').clear()
    expect(await counters.get({ id: 'a' })).toBeUndefined()
    await cache.disconnect()
  })
})

describe('keyspace backends', () => {
  it('a shared layer that is not Redis is refused (a counter per process would differ between instances)', () => {
    const postgres = new PostgresLayer({ connectionString: 'postgres://127.0.0.1:1/none' })
    const cache = new CacheStack([new MemoryLayer(), postgres])
    expect(() => cache.keyspace({ kind: 'int', pattern: 'c/:id' })).toThrow(ValidationError)
    return cache.disconnect()
  })

  it('options are checked with "did you mean"', async () => {
    const cache = new CacheStack()
    expect(() => cache.keyspace({ kind: 'int', pattern: 'c/:id', defaultExpiri: 1 } as never)).toThrow(
      /"defaultExpiri" is not an option of keyspace\(\); did you mean "defaultExpiry"\?/,
    )
    expect(() => cache.keyspace({ kind: 'integer', pattern: 'c' } as never)).toThrow(/did you mean "int"\?/)
    expect(() => cache.keyspace({ kind: 'int', pattern: '' })).toThrow(ValidationError)
    expect(() => cache.keyspace({ kind: 'int', pattern: 'a/:x/:x' })).toThrow(/twice/)
    expect(() => cache.keyspace({ kind: 'int', pattern: 'c', defaultExpiry: 1000 as never })).toThrow(
      /expireIn/,
    )
    const counters = cache.keyspace({ kind: 'int', pattern: 'c' })
    await expect(counters.increment({}, 1, { expiry: expireIn(1), expirey: 1 } as never)).rejects.toThrow(
      /"expirey" is not an option of a keyspace write; did you mean "expiry"\?/,
    )
  })
})

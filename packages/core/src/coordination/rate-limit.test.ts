import type { Cluster, Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createTestCluster, createTestRedis, uniquePrefix } from '../../../../tools/test-redis.ts'
import { CacheStack } from '../cache-stack.ts'
import { LayerError, ValidationError } from '../errors.ts'
import { MemoryLayer } from '../layers/memory-layer.ts'
import { RedisLayer } from '../layers/redis-layer.ts'

const redis = createTestRedis()
const cluster = createTestCluster()
const caches: CacheStack[] = []
afterEach(async () => {
  await Promise.all(caches.splice(0).map((cache) => cache.disconnect()))
})
afterAll(async () => {
  await Promise.all([redis.quit(), cluster.quit()])
})

/** A stack on a fake clock: the Redis script takes its time from the stack, so no test sleeps. */
function setup(client?: Redis | Cluster): { cache: CacheStack; advance(ms: number): void } {
  let now = 1_700_000_000_000
  const layers = client
    ? [new MemoryLayer(), new RedisLayer({ client, prefix: uniquePrefix('rate') })]
    : [new MemoryLayer()]
  const cache = new CacheStack(layers, { clock: { now: () => now } })
  caches.push(cache)
  return {
    cache,
    advance: (ms) => {
      now += ms
    },
  }
}

describe.each([
  ['memory', () => setup()],
  ['a single Redis', () => setup(redis)],
  ['a Redis Cluster', () => setup(cluster)],
])('rateLimit on %s', (_label, make) => {
  it('allows `limit` requests in a window, then refuses with the time to wait', async () => {
    const { cache, advance } = make()
    const options = { key: 'user:1', limit: 3, window: '10s' } as const
    const first = await cache.rateLimit(options)
    expect(first).toMatchObject({ allowed: true, limit: 3, remaining: 2, retryAfter: 0 })
    const t0 = first.resetAt - 10_000
    advance(2_000)
    expect(await cache.rateLimit(options)).toMatchObject({ allowed: true, remaining: 1 })
    advance(2_000)
    expect(await cache.rateLimit(options)).toMatchObject({
      allowed: true,
      remaining: 0,
      resetAt: t0 + 10_000,
    })
    advance(1_000)
    // t0 + 5 s: the first request leaves the window at t0 + 10 s.
    expect(await cache.rateLimit(options)).toEqual({
      allowed: false,
      limit: 3,
      remaining: 0,
      resetAt: t0 + 10_000,
      retryAfter: 5_000,
    })
  })

  it('slides: each request frees its slot exactly one window after it was made', async () => {
    const { cache, advance } = make()
    const options = { key: 'k', limit: 2, window: 1_000 }
    expect((await cache.rateLimit(options)).allowed).toBe(true) // t = 0
    advance(600)
    expect((await cache.rateLimit(options)).allowed).toBe(true) // t = 600
    advance(399)
    expect((await cache.rateLimit(options)).allowed).toBe(false) // t = 999: both still in
    advance(1)
    expect(await cache.rateLimit(options)).toMatchObject({ allowed: true, remaining: 0 }) // t = 1000: the first left
    advance(599)
    expect((await cache.rateLimit(options)).allowed).toBe(false) // t = 1599
    advance(1)
    expect((await cache.rateLimit(options)).allowed).toBe(true) // t = 1600
  })

  it('does not count refused requests: hammering does not extend the wait', async () => {
    const { cache, advance } = make()
    const options = { key: 'k', limit: 1, window: '1m' } as const
    expect((await cache.rateLimit(options)).allowed).toBe(true)
    for (let i = 0; i < 5; i++) {
      advance(10_000)
      expect((await cache.rateLimit(options)).allowed).toBe(false)
    }
    advance(10_000)
    expect((await cache.rateLimit(options)).allowed).toBe(true)
  })

  it('counts concurrent requests exactly', async () => {
    const { cache } = make()
    const answers = await Promise.all(
      Array.from({ length: 200 }, () => cache.rateLimit({ key: 'burst', limit: 57, window: '1m' })),
    )
    expect(answers.filter((answer) => answer.allowed)).toHaveLength(57)
    expect(new Set(answers.filter((a) => a.allowed).map((a) => a.remaining)).size).toBe(57)
  })

  it('keeps keys and namespaces apart', async () => {
    const { cache } = make()
    const limit = { limit: 1, window: '1m' } as const
    expect((await cache.rateLimit({ key: 'a', ...limit })).allowed).toBe(true)
    expect((await cache.rateLimit({ key: 'b', ...limit })).allowed).toBe(true)
    expect((await cache.namespace('x').rateLimit({ key: 'a', ...limit })).allowed).toBe(true)
    expect((await cache.rateLimit({ key: 'a', ...limit })).allowed).toBe(false)
  })
})

describe('rateLimit when Redis fails', () => {
  async function downStack(): Promise<CacheStack> {
    const client = createTestRedis()
    const cache = new CacheStack([
      new RedisLayer({ client, prefix: uniquePrefix('rate-down'), commandTimeout: 200 }),
    ])
    caches.push(cache)
    await cache.ready()
    client.disconnect()
    return cache
  }

  it("answers by `onError`: 'allow' by default, 'deny' on request, with an error event", async () => {
    const cache = await downStack()
    const errors: unknown[] = []
    cache.on('error', ({ error, operation }) => {
      if (operation === 'rateLimit') errors.push(error)
    })
    const open = await cache.rateLimit({ key: 'k', limit: 5, window: '1m' })
    expect(open).toMatchObject({ allowed: true, retryAfter: 0 })
    expect(open.error).toBeInstanceOf(LayerError)
    const closed = await cache.rateLimit({ key: 'k', limit: 5, window: '1m', onError: 'deny' })
    expect(closed).toMatchObject({ allowed: false, remaining: 0, retryAfter: 1_000 })
    expect(errors).toHaveLength(2)
  })
})

describe('rateLimit options', () => {
  const cache = new CacheStack()

  it('refuses unknown options and bad values, naming them', async () => {
    await expect(
      cache.rateLimit({ key: 'k', limit: 1, window: '1s', onErorr: 'deny' } as never),
    ).rejects.toThrow('"onErorr" is not an option of rateLimit(); did you mean "onError"?')
    for (const limit of [0, 1.5, -1, Number.NaN]) {
      await expect(cache.rateLimit({ key: 'k', limit, window: 1_000 })).rejects.toMatchObject({
        option: 'limit',
      })
    }
    await expect(cache.rateLimit({ key: 'k', limit: 1, window: 'soon' as never })).rejects.toMatchObject({
      option: 'window',
    })
    await expect(
      cache.rateLimit({ key: 'k', limit: 1, window: '1s', onError: 'maybe' as never }),
    ).rejects.toBeInstanceOf(ValidationError)
    await expect(cache.rateLimit({ key: '', limit: 1, window: '1s' })).rejects.toMatchObject({
      option: 'key',
    })
  })
})

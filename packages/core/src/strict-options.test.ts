import type { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createTestRedis, testRedisUrl } from '../../../tools/test-redis.ts'
import { CacheStack } from './cache-stack.ts'
import { ResponseCache } from './http/response-cache.ts'
import { statsResponder } from './http/stats.ts'
import {
  createCacheManager,
  MemoryLayer,
  RedisBus,
  RedisLayer,
  RedisSingleFlight,
  ValidationError,
} from './index.ts'
import { nearestName } from './internal/known-options.ts'

const stacks: CacheStack[] = []
function stack(...args: ConstructorParameters<typeof CacheStack>): CacheStack {
  const cache = new CacheStack(...args)
  stacks.push(cache)
  return cache
}
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((cache) => cache.disconnect()))
})

/** Runs `run`, expects a ValidationError with exactly `message`, and returns it. */
async function refused(run: () => unknown, message: string, option?: string): Promise<ValidationError> {
  let caught: unknown
  try {
    await run()
  } catch (error) {
    caught = error
  }
  expect(caught).toBeInstanceOf(ValidationError)
  const error = caught as ValidationError
  expect(error.message).toBe(message)
  expect(error.code).toBe('E_VALIDATION')
  if (option !== undefined) expect(error.option).toBe(option)
  return error
}

// The options objects are built outside the calls so TypeScript's excess-property check (which the
// type tests cover) does not hide the run-time check from these tests.
const loose = (value: Record<string, unknown>): never => value as never

describe('unknown options are refused with the nearest valid name', () => {
  it('nearestName finds typos, swaps, case and prefixes, and nothing for unrelated names', () => {
    const names = ['ttl', 'tags', 'staleWhileRevalidate', 'maxItems', 'maxQueue', 'timeout', 'hardTimeout']
    expect(nearestName('tll', names)).toBe('ttl')
    expect(nearestName('TTL', names)).toBe('ttl')
    expect(nearestName('maxItem', names)).toBe('maxItems')
    expect(nearestName('maxQueueSize', names)).toBe('maxQueue')
    expect(nearestName('stale', names)).toBe('staleWhileRevalidate')
    expect(nearestName('timeuot', names)).toBe('timeout')
    expect(nearestName('banana', names)).toBeUndefined()
  })

  it('new CacheStack(layers, { tll }) — the issue example', async () => {
    await refused(
      () => new CacheStack(undefined, loose({ tll: '5s' })),
      '"tll" is not an option of new CacheStack(); did you mean "ttl"?',
      'tll',
    )
    const error = await captured(() => new CacheStack(undefined, loose({ banana: 1 })))
    expect(error.message).toMatch(/^"banana" is not an option of new CacheStack\(\) \(known: .*ttl.*\)$/)
  })

  it('nested stack options: writeBehind, circuitBreaker, fetcherRateLimit, adaptiveTtl, gracefulDegradation, ttlPolicy', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [
        { writeStrategy: 'write-behind', writeBehind: { maxQueueSize: 100 } },
        '"writeBehind.maxQueueSize" is not an option of new CacheStack(); did you mean "writeBehind.maxQueue"?',
      ],
      [
        { circuitBreaker: { treshold: 3 } },
        '"circuitBreaker.treshold" is not an option (known: cooldown, failureThreshold, scope)',
      ],
      [
        { circuitBreaker: { cooldwn: '1s' } },
        '"circuitBreaker.cooldwn" is not an option; did you mean "circuitBreaker.cooldown"?',
      ],
      [
        { fetcherRateLimit: { maxConcurent: 2 } },
        '"fetcherRateLimit.maxConcurent" is not an option; did you mean "fetcherRateLimit.maxConcurrent"?',
      ],
      [
        { adaptiveTtl: { maxTTL: '1h' } },
        '"adaptiveTtl.maxTTL" is not an option; did you mean "adaptiveTtl.maxTtl"?',
      ],
      [
        { gracefulDegradation: { retryAfer: '1s' } },
        '"gracefulDegradation.retryAfer" is not an option of new CacheStack(); did you mean "gracefulDegradation.retryAfter"?',
      ],
      [
        { ttlPolicy: { alignto: '5m' } },
        '"ttlPolicy.alignto" is not an option; did you mean "ttlPolicy.alignTo"?',
      ],
    ]
    for (const [options, message] of cases)
      await refused(() => new CacheStack(undefined, loose(options)), message)
  })

  it('per call: get, getOrSet, the object forms, set, mget/mset items, wrap, ctx.setOptions — on a hit too', async () => {
    const cache = stack()
    await cache.set('k', 1)
    // A fresh L1 hit (the fast path) must not skip the check.
    await refused(
      () => cache.get('k', undefined, loose({ forcefresh: true })),
      '"forcefresh" is not an option of get()/getOrSet()/wrap(); did you mean "forceFresh"?',
    )
    await refused(
      () => cache.getOrSet('k', () => 2, loose({ tll: '1s' })),
      '"tll" is not an option of get()/getOrSet()/wrap(); did you mean "ttl"?',
    )
    await refused(
      () => cache.getOrSet(loose({ key: 'k', factroy: () => 2 })),
      '"factroy" is not an option of get()/getOrSet()/wrap(); did you mean "factory"?',
    )
    await refused(
      () => cache.get(loose({ key: 'k', factroy: () => 2 })),
      '"factroy" is not an option of get()/getOrSet()/wrap(); did you mean "factory"?',
    )
    await refused(
      () => cache.set('k', 1, loose({ tag: ['a'] })),
      '"tag" is not an option of set(); did you mean "tags"?',
    )
    await refused(
      () => cache.set(loose({ key: 'k', valeu: 1 })),
      '"valeu" is not an option of set(); did you mean "value"?',
    )
    await refused(
      () => cache.mget([loose({ key: 'k', fetcher: () => 1 })]),
      '"fetcher" is not an option of an mget() item; did you mean "fetch"?',
    )
    await refused(
      () => cache.mset([loose({ key: 'k', value: 1, tll: 5 })]),
      '"tll" is not an option of an mset() item; did you mean "ttl"?',
    )
    await refused(
      () => cache.wrap('p', () => 1, loose({ negativeCaching: true })),
      '"negativeCaching" is not an option of wrap(); did you mean "negativeCache"?',
    )
    // A factory's errors reach the caller as a FactoryError; the ValidationError is its cause.
    const error = await captured(() =>
      cache.getOrSet('fresh', (ctx) => {
        ctx.setOptions(loose({ ttll: '1s' }))
        return 1
      }),
    )
    expect(error.message).toBe(
      'Factory for key "fresh" failed: "ttll" is not an option of ctx.setOptions(); did you mean "ttl"?',
    )
    expect(error.cause).toBeInstanceOf(ValidationError)
  })

  it('a wrong call rejects, it never throws synchronously', () => {
    const cache = stack()
    expect(() => cache.get('k', undefined, loose({ tll: 1 })).catch(() => {})).not.toThrow()
    expect(() => cache.set('k', 1, loose({ tll: 1 })).catch(() => {})).not.toThrow()
    expect(() => cache.mget([loose({ key: 'k', tll: 1 })]).catch(() => {})).not.toThrow()
  })

  it('a per-layer ttl map names layers of the stack', async () => {
    await refused(
      () => new CacheStack(undefined, { ttl: { memroy: '1m' } }),
      '"ttl.memroy" is not a layer of this stack; did you mean "ttl.memory"?',
      'ttl.memroy',
    )
    const cache = stack()
    await refused(
      () => cache.set('k', 1, { ttl: { redis: '1m' } }),
      '"ttl.redis" is not a layer of this stack (known: memory)',
    )
    await cache.set('k', 1, { ttl: { memory: '1m' } })
  })

  it('new MemoryLayer({ maxItem }) and createCacheManager', async () => {
    await refused(
      () => new MemoryLayer(loose({ maxItem: 5 })),
      '"maxItem" is not an option of new MemoryLayer(); did you mean "maxItems"?',
      'maxItem',
    )
    const one = stack()
    await refused(
      () => createCacheManager(loose({ default: 'one', stores: { one }, defualt: 'one' })),
      '"defualt" is not an option of createCacheManager(); did you mean "default"?',
    )
    const manager = createCacheManager({ default: 'one', stores: { one } })
    await refused(() => manager.use('onee' as never), 'Unknown cache store "onee"; did you mean "one"?')
  })

  it('response caching (the adapters) goes through the same checker', async () => {
    const cache = stack()
    await refused(
      () => new ResponseCache(loose({ cache, stale: '1m' })),
      '"stale" is not a response caching option; did you mean "staleWhileRevalidate"?',
      'stale',
    )
    // Every adapter's statsRoute goes through statsResponder.
    await refused(
      () => statsResponder(loose({ cache, authorise: () => true, authorize: () => true })),
      '"authorise" is not an option of statsRoute(); did you mean "authorize"?',
    )
  })
})

describe('unknown options of the Redis parts', () => {
  let client: Redis
  beforeAll(() => {
    client = createTestRedis()
  })
  afterAll(async () => {
    await client.quit()
  })

  it('RedisLayer keeps ioredis options apart (redisOptions / cluster.options) so both are checked', async () => {
    await refused(
      () => new RedisLayer(loose({ client, prefx: 'x:' })),
      '"prefx" is not an option of new RedisLayer(); did you mean "prefix"?',
    )
    // An ioredis option passed at the top level is named as such, not silently dropped.
    const error = await captured(() => new RedisLayer(loose({ url: testRedisUrl(), connectTimeout: 100 })))
    expect(error.option).toBe('connectTimeout')
    await refused(
      () => new RedisLayer(loose({ cluster: { nodes: [{ port: 1 }], option: {} } })),
      '"cluster.option" is not an option of new RedisLayer(); did you mean "cluster.options"?',
    )
  })

  it('RedisBus and RedisSingleFlight', async () => {
    await refused(
      () => new RedisBus(loose({ client, chanel: 'c' })),
      '"chanel" is not an option of new RedisBus(); did you mean "channel"?',
    )
    await refused(
      () => new RedisSingleFlight(loose({ client, leaseTime: '5s' })),
      '"leaseTime" is not an option of new RedisSingleFlight(); did you mean "lease"?',
    )
  })
})

async function captured(run: () => unknown): Promise<Error & { option?: string; cause?: unknown }> {
  try {
    await run()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a rejection')
}

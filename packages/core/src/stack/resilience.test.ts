import type { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { createTestRedis, uniquePrefix } from '../../../../tools/test-redis.ts'
import { CacheStack, type CacheStackOptions } from '../cache-stack.ts'
import { CircuitOpenError, FactoryError, LayerError } from '../errors.ts'
import type { CacheLayer } from '../layer.ts'
import { MemoryLayer } from '../layers/memory-layer.ts'
import { RedisLayer } from '../layers/redis-layer.ts'
import { createManualClock } from '../testing/index.ts'

const manualClock = (start = 1_700_000_000_000) => createManualClock(start)

let clock: ReturnType<typeof manualClock>
const stacks: CacheStack[] = []
function stack(options: CacheStackOptions = {}, layers?: readonly CacheLayer[]): CacheStack {
  const cache = new CacheStack(layers, { clock, ...options })
  stacks.push(cache)
  return cache
}
async function advance(ms: number): Promise<void> {
  clock.advance(ms)
  if (vi.isFakeTimers()) await vi.advanceTimersByTimeAsync(ms)
}
const boom = () => {
  throw new Error('upstream down')
}

beforeEach(() => {
  clock = manualClock()
})
afterEach(async () => {
  vi.useRealTimers()
  await Promise.all(stacks.splice(0).map((cache) => cache.disconnect()))
})

describe('circuitBreaker', () => {
  it('opens after failureThreshold failures in a row, then refuses without calling the factory', async () => {
    const cache = stack({ circuitBreaker: { failureThreshold: 3, cooldown: '10s' } })
    const factory = vi.fn(boom)
    for (let i = 0; i < 3; i++) await expect(cache.get('k', factory)).rejects.toBeInstanceOf(FactoryError)
    const refused = await cache.get('k', factory).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(CircuitOpenError)
    expect(refused).toMatchObject({ key: 'k', retryAt: clock.now() + 10_000, code: 'E_CIRCUIT_OPEN' })
    expect(factory).toHaveBeenCalledTimes(3)
    // Per key by default: another key still calls its factory.
    expect(await cache.get('other', () => 'ok')).toBe('ok')
  })

  it('a success in between resets the count', async () => {
    const cache = stack({ circuitBreaker: { failureThreshold: 2 } })
    await expect(cache.get('k', boom)).rejects.toBeInstanceOf(FactoryError)
    await cache.get('k', () => 'ok', { ttl: 0 })
    await expect(cache.get('k', boom)).rejects.toBeInstanceOf(FactoryError)
    await expect(cache.get('k', boom)).rejects.toBeInstanceOf(FactoryError)
    await expect(cache.get('k', boom)).rejects.toBeInstanceOf(CircuitOpenError)
  })

  it('half-open after cooldown: exactly one probe; success closes, failure reopens', async () => {
    const cache = stack({ circuitBreaker: { failureThreshold: 1, cooldown: '30s' } })
    await expect(cache.get('k', boom)).rejects.toBeInstanceOf(FactoryError)
    await advance(29_999)
    await expect(cache.get('k', boom)).rejects.toBeInstanceOf(CircuitOpenError)
    await advance(1)
    let release!: (value: string) => void
    const probe = vi.fn(() => new Promise<string>((resolve) => (release = resolve)))
    const first = cache.get('k', probe)
    // A second key would share nothing; the same key joins the probe's flight.
    const joined = cache.get('k', probe)
    await vi.waitFor(() => expect(probe).toHaveBeenCalled())
    release('back')
    expect(await Promise.all([first, joined])).toEqual(['back', 'back'])
    expect(probe).toHaveBeenCalledTimes(1)
    expect(await cache.get('k2', boom).catch((e: unknown) => e)).toBeInstanceOf(FactoryError)

    await expect(cache.get('z', boom)).rejects.toBeInstanceOf(FactoryError)
    await advance(30_000)
    await expect(cache.get('z', boom)).rejects.toBeInstanceOf(FactoryError)
    await expect(cache.get('z', () => 'no')).rejects.toBeInstanceOf(CircuitOpenError)
  })

  it('scope shared: one circuit for every key; a concurrent probe on another key is refused', async () => {
    const cache = stack({ circuitBreaker: { failureThreshold: 2, cooldown: '5s', scope: 'shared' } })
    await expect(cache.get('a', boom)).rejects.toBeInstanceOf(FactoryError)
    await expect(cache.get('b', boom)).rejects.toBeInstanceOf(FactoryError)
    await expect(cache.get('c', () => 'x')).rejects.toBeInstanceOf(CircuitOpenError)
    await advance(5_000)
    let release!: (value: string) => void
    const probe = cache.get('d', () => new Promise<string>((resolve) => (release = resolve)))
    await expect(cache.get('e', () => 'x')).rejects.toBeInstanceOf(CircuitOpenError)
    await vi.waitFor(() => expect(release).toBeTypeOf('function'))
    release('ok')
    expect(await probe).toBe('ok')
    expect(await cache.get('e', () => 'x')).toBe('x')
  })

  it('open circuit serves stale within grace instead of throwing, and skips background refreshes', async () => {
    const cache = stack({
      ttl: '10s',
      grace: '1h',
      staleWhileRevalidate: '1m',
      circuitBreaker: { failureThreshold: 1, cooldown: '1m' },
    })
    const reasons: string[] = []
    cache.on('stale-serve', ({ reason }) => reasons.push(reason))
    await cache.set('k', 'old')
    await advance(80_000)
    expect(await cache.get('k', boom)).toBe('old')
    const factory = vi.fn(() => 'new')
    expect(await cache.get('k', factory)).toBe('old')
    expect(factory).not.toHaveBeenCalled()
    expect(reasons).toEqual(['error', 'circuit-open'])
  })

  it('can be turned off per call and validates its options', async () => {
    const cache = stack({ circuitBreaker: { failureThreshold: 1 } })
    await expect(cache.get('k', boom)).rejects.toBeInstanceOf(FactoryError)
    expect(await cache.get('k', () => 'ok', { circuitBreaker: false })).toBe('ok')
    expect(() => stack({ circuitBreaker: { failureThreshold: 0 } })).toThrow(/failureThreshold/)
    expect(() => stack({ circuitBreaker: { scope: 'galaxy' as never } })).toThrow(/circuitBreaker.scope/)
    expect(() => stack({ circuitBreaker: { cooldown: 'later' as never } })).toThrow(/circuitBreaker.cooldown/)
  })
})

describe('fetcherRateLimit', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })

  it('global: calls beyond the limit wait for the next window, in order', async () => {
    const cache = stack({ fetcherRateLimit: { limit: 2, window: '1s' } })
    const started: string[] = []
    const reads = ['a', 'b', 'c', 'd', 'e'].map((key) =>
      cache.get(key, () => {
        started.push(key)
        return key
      }),
    )
    await vi.advanceTimersByTimeAsync(0)
    expect(started).toEqual(['a', 'b'])
    await advance(999)
    expect(started).toEqual(['a', 'b'])
    await advance(1)
    expect(started).toEqual(['a', 'b', 'c', 'd'])
    await advance(1_000)
    expect(await Promise.all(reads)).toEqual(['a', 'b', 'c', 'd', 'e'])
  })

  it("scope 'key': each key has its own budget", async () => {
    const cache = stack({ fetcherRateLimit: { limit: 1, window: '10s', scope: 'key' }, ttl: 0 })
    const factory = vi.fn((ctx: { key: string }) => ctx.key)
    expect(await cache.get('a', factory)).toBe('a')
    expect(await cache.get('b', factory)).toBe('b')
    const again = cache.get('a', factory)
    await vi.advanceTimersByTimeAsync(0)
    expect(factory).toHaveBeenCalledTimes(2)
    await advance(10_000)
    expect(await again).toBe('a')
    expect(factory).toHaveBeenCalledTimes(3)
  })

  it('a waiting call with a stale value at hand is bounded by the soft timeout', async () => {
    const cache = stack({
      ttl: '1s',
      grace: '1m',
      timeout: '50ms',
      fetcherRateLimit: { limit: 1, window: '1m' },
    })
    await cache.get('x', () => 'x')
    await cache.set('k', 'old')
    await advance(2_000)
    const read = cache.get('k', () => 'new')
    await advance(50)
    expect(await read).toBe('old')
  })

  it('validates its options', () => {
    expect(() => stack({ fetcherRateLimit: { limit: 0, window: '1s' } })).toThrow(/fetcherRateLimit.limit/)
    expect(() => stack({ fetcherRateLimit: { limit: 1, window: 0 } })).toThrow(/fetcherRateLimit.window/)
  })

  /** A factory the test settles by hand; records which keys are running. */
  function gatedFactory() {
    const running = new Set<string>()
    const release = new Map<string, () => void>()
    let peak = 0
    const factory = (ctx: { key: string }) =>
      new Promise<string>((resolve) => {
        running.add(ctx.key)
        peak = Math.max(peak, running.size)
        release.set(ctx.key, () => {
          running.delete(ctx.key)
          resolve(ctx.key)
        })
      })
    return { factory, running, release, peak: () => peak }
  }

  it('concurrency form { maxConcurrent }: at most N factories run at once, the rest start as slots free, in order', async () => {
    const cache = stack({ fetcherRateLimit: { maxConcurrent: 2 } })
    const gate = gatedFactory()
    const reads = ['a', 'b', 'c', 'd'].map((key) => cache.get(key, gate.factory))
    await vi.advanceTimersByTimeAsync(0)
    expect([...gate.running]).toEqual(['a', 'b'])
    gate.release.get('b')!()
    await vi.advanceTimersByTimeAsync(0)
    expect([...gate.running]).toEqual(['a', 'c'])
    gate.release.get('a')!()
    gate.release.get('c')!()
    await vi.advanceTimersByTimeAsync(0)
    gate.release.get('d')!()
    expect(await Promise.all(reads)).toEqual(['a', 'b', 'c', 'd'])
    expect(gate.peak()).toBe(2)
  })

  it("concurrency form, scope 'key': each key gets its own N (a failed factory gives its slot back)", async () => {
    const cache = stack({ fetcherRateLimit: { maxConcurrent: 1, scope: 'key' }, ttl: 0 })
    await expect(cache.get('x', boom)).rejects.toBeInstanceOf(FactoryError)
    const gate = gatedFactory()
    const reads = [cache.get('a', gate.factory), cache.get('b', gate.factory)]
    await vi.advanceTimersByTimeAsync(0)
    expect([...gate.running].sort()).toEqual(['a', 'b'])
    gate.release.get('a')!()
    gate.release.get('b')!()
    expect(await Promise.all(reads)).toEqual(['a', 'b'])
    expect(await cache.get('x', () => 'x again')).toBe('x again')
  })

  it('both forms together, per call: a start rate and a concurrency cap', async () => {
    const cache = stack()
    const gate = gatedFactory()
    const limit = { fetcherRateLimit: { maxConcurrent: 1, limit: 5, window: '1s' } } as const
    const first = cache.get('a', gate.factory, limit)
    const second = cache.get('b', gate.factory, limit)
    await vi.advanceTimersByTimeAsync(0)
    expect([...gate.running]).toEqual(['a'])
    gate.release.get('a')!()
    await vi.advanceTimersByTimeAsync(0)
    expect([...gate.running]).toEqual(['b'])
    gate.release.get('b')!()
    expect(await Promise.all([first, second])).toEqual(['a', 'b'])
  })

  it('the concurrency form is validated too', () => {
    expect(() => stack({ fetcherRateLimit: { maxConcurrent: 0 } })).toThrow(
      '"fetcherRateLimit.maxConcurrent" must be a positive integer; got 0',
    )
    expect(() => stack({ fetcherRateLimit: { limit: 2 } })).toThrow(
      '"fetcherRateLimit.window" is missing: a start rate needs both "limit" and "window"',
    )
    expect(() => stack({ fetcherRateLimit: {} })).toThrow(
      `"fetcherRateLimit" must be { limit, window, scope? }, { maxConcurrent, scope? } or false`,
    )
  })
})

describe('write policies and strategies', () => {
  let client: Redis
  beforeAll(() => {
    client = createTestRedis()
  })
  afterAll(async () => {
    await client.quit()
  })

  /** A shared layer that fails every write. */
  function failingLayer(): CacheLayer {
    const fail = () => Promise.reject(new Error('disk full'))
    return {
      name: 'flaky',
      isLocal: false,
      get: () => Promise.resolve(undefined),
      getMany: (keys) => Promise.resolve(keys.map(() => undefined)),
      set: fail,
      setMany: fail,
      delete: () => Promise.resolve(false),
      deleteMany: () => Promise.resolve(0),
      clear: () => Promise.resolve(),
      keys: async function* () {},
      has: () => Promise.resolve(false),
      ttl: () => Promise.resolve(undefined),
      ping: () => Promise.resolve(),
      dispose: () => Promise.resolve(),
    }
  }

  it("'best-effort' succeeds when one layer took the write and reports the failure; 'strict' throws", async () => {
    const loose = stack({ gracefulDegradation: false }, [new MemoryLayer(), failingLayer()])
    const errors: unknown[] = []
    loose.on('error', ({ error }) => errors.push(error))
    await loose.set('k', 1)
    expect(await loose.get('k')).toBe(1)
    expect(errors[0]).toBeInstanceOf(LayerError)
    const strict = stack({ writePolicy: 'strict', gracefulDegradation: false }, [
      new MemoryLayer(),
      failingLayer(),
    ])
    await expect(strict.set('k', 1)).rejects.toBeInstanceOf(LayerError)
  })

  it('write-behind: memory at once, Redis in one batch later, flushed on disconnect', async () => {
    const prefix = uniquePrefix('write-behind')
    const redis = new RedisLayer({ client, prefix })
    const batches = vi.spyOn(redis, 'setMany')
    const cache = new CacheStack([new MemoryLayer(), redis], {
      writeStrategy: 'write-behind',
      writeBehind: { flushInterval: '1h', batchSize: 1_000 },
    })
    for (let i = 0; i < 50; i++) await cache.set(`k${i}`, i)
    await cache.set('k0', 'last write wins')
    expect(await cache.get('k7')).toBe(7)
    expect(await client.exists(`${prefix}k7`)).toBe(0)
    await cache.disconnect()
    expect(batches).toHaveBeenCalledTimes(1)
    expect(batches.mock.calls[0]![0]).toHaveLength(50)
    const reader = stack({}, [new RedisLayer({ client, prefix })])
    expect(await reader.get('k7')).toBe(7)
    expect(await reader.get('k0')).toBe('last write wins')
  })

  it('write-behind: a delete or clear after a queued write wins; a full queue flushes', async () => {
    const prefix = uniquePrefix('write-behind-delete')
    const cache = stack(
      { writeStrategy: 'write-behind', writeBehind: { flushInterval: '1h', maxQueue: 5 } },
      [new MemoryLayer(), new RedisLayer({ client, prefix })],
    )
    await cache.set('gone', 1)
    await cache.delete('gone')
    await cache.namespace('ns').set('x', 1)
    await cache.namespace('ns').clear()
    for (let i = 0; i < 5; i++) await cache.set(`f${i}`, i)
    expect(await client.exists(`${prefix}f0`)).toBe(1)
    await cache.disconnect()
    expect(await client.exists(`${prefix}gone`, `${prefix}ns:x`)).toBe(0)
    expect(() => stack({ writeStrategy: 'later' as never })).toThrow(/writeStrategy/)
    expect(() => stack({ writeStrategy: 'write-behind', writeBehind: { maxQueue: 0 } })).toThrow(
      /writeBehind.maxQueue/,
    )
  })
})

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CacheStack, type CacheStackOptions } from '../cache-stack.ts'
import { DisconnectedError, FactoryError, FactoryTimeoutError } from '../errors.ts'
import { createManualClock } from '../testing/index.ts'
import type { FactoryContext, GracedEntry } from './factory.ts'

const manualClock = (start = 1_700_000_000_000) => createManualClock(start)

let clock: ReturnType<typeof manualClock>
const stacks: CacheStack[] = []
function stack(options: CacheStackOptions = {}): CacheStack {
  const cache = new CacheStack(undefined, { clock, ...options })
  stacks.push(cache)
  return cache
}
/** Moves the injected clock and Vitest's fake timers together. */
async function advance(ms: number): Promise<void> {
  clock.advance(ms)
  await vi.advanceTimersByTimeAsync(ms)
}
function deferred<T>() {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}
const boom = () => {
  throw new Error('upstream down')
}

beforeEach(() => {
  clock = manualClock()
  vi.useFakeTimers()
})
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((cache) => cache.disconnect()))
  vi.useRealTimers()
})

describe('staleWhileRevalidate', () => {
  it('serves the stale value at once and runs exactly one background refresh', async () => {
    const cache = stack({ ttl: '10s', staleWhileRevalidate: '1m' })
    await cache.set('k', 'v1')
    await advance(11_000)
    const gate = deferred<string>()
    const factory = vi.fn(() => gate.promise)
    const stale = await Promise.all(Array.from({ length: 20 }, () => cache.get('k', factory)))
    expect(stale).toEqual(Array(20).fill('v1'))
    expect(factory).toHaveBeenCalledTimes(1)
    expect(cache.getStats().refreshesInFlight).toBe(1)
    gate.resolve('v2')
    await vi.advanceTimersByTimeAsync(0)
    expect(await cache.get('k', factory)).toBe('v2')
    expect(await cache.has('k')).toBe(true)
  })

  it('misses once the window is over (no grace)', async () => {
    const cache = stack({ ttl: '10s', staleWhileRevalidate: '5s' })
    await cache.set('k', 'v1')
    await advance(16_000)
    expect(await cache.get('k', () => 'v2')).toBe('v2')
  })

  it('hands the stale entry to the background refresh as ctx.gracedEntry', async () => {
    const cache = stack({ ttl: '10s', staleWhileRevalidate: '1m' })
    await cache.set('k', 'old', { tags: ['t'] })
    await advance(11_000)
    let seen: GracedEntry<string> | undefined
    await cache.get<string>('k', (ctx) => {
      seen = ctx.gracedEntry
      return 'new'
    })
    await vi.advanceTimersByTimeAsync(0)
    expect(seen).toMatchObject({ value: 'old', tags: ['t'] })
  })

  it('abandons a refresh that outlives backgroundRefreshTimeout: its late result is not written', async () => {
    const cache = stack({ ttl: '10s', staleWhileRevalidate: '1m', backgroundRefreshTimeout: '2s' })
    const errors: unknown[] = []
    cache.on('refresh-error', ({ error }) => errors.push(error))
    await cache.set('k', 'old')
    await advance(11_000)
    const gate = deferred<string>()
    let signal: AbortSignal | undefined
    expect(
      await cache.get('k', (ctx) => {
        signal = ctx.signal
        return gate.promise
      }),
    ).toBe('old')
    await advance(2_001)
    expect(errors[0]).toBeInstanceOf(FactoryTimeoutError)
    expect(signal?.aborted).toBe(true)
    expect(cache.getStats().refreshesInFlight).toBe(0)
    gate.resolve('late')
    await vi.advanceTimersByTimeAsync(0)
    expect(await cache.get('k')).toBe('old')
    // The key is free again: the next stale read starts a new refresh.
    expect(await cache.get('k', () => 'next')).toBe('old')
    await vi.advanceTimersByTimeAsync(0)
    expect(await cache.get('k')).toBe('next')
  })

  for (const [name, invalidate] of [
    ['delete', (cache: CacheStack) => cache.delete('k')],
    ['clear', (cache: CacheStack) => cache.clear()],
    ['invalidateByTag', (cache: CacheStack) => cache.invalidateByTag('t')],
  ] as const) {
    it(`a ${name} during an in-flight refresh wins: the late result is not written`, async () => {
      const cache = stack({ ttl: '10s', staleWhileRevalidate: '1m' })
      await cache.set('k', 'old', { tags: ['t'] })
      await advance(11_000)
      const gate = deferred<string>()
      expect(await cache.get('k', () => gate.promise)).toBe('old')
      await invalidate(cache)
      gate.resolve('late')
      await vi.advanceTimersByTimeAsync(0)
      expect(await cache.get('k')).toBeUndefined()
    })
  }

  it('expireByTag during a refresh leaves its result stale (it started before the invalidation)', async () => {
    const cache = stack({ ttl: '10s', staleWhileRevalidate: '1m' })
    await cache.set('k', 'old', { tags: ['t'] })
    await advance(11_000)
    const gate = deferred<string>()
    expect(await cache.get('k', () => gate.promise, { tags: ['t'] })).toBe('old')
    await advance(5)
    await cache.expireByTag('t')
    await advance(5)
    gate.resolve('computed-before')
    await vi.advanceTimersByTimeAsync(0)
    expect(await cache.has('k')).toBe(false)
    expect(await cache.get('k')).toBe('computed-before')
  })
})

describe('grace (staleIfError)', () => {
  it('serves the stale value when the factory fails, and only within grace', async () => {
    const cache = stack({ ttl: '10s', grace: '1m' })
    const reasons: string[] = []
    cache.on('stale-serve', ({ reason }) => reasons.push(reason))
    await cache.set('k', 'v1')
    await advance(30_000)
    expect(await cache.get('k', boom)).toBe('v1')
    expect(await cache.get('k', (ctx: FactoryContext) => ctx.fail('nope'))).toBe('v1')
    expect(reasons).toEqual(['error', 'error'])
    await advance(41_000)
    await expect(cache.get('k', boom)).rejects.toBeInstanceOf(FactoryError)
  })

  it('staleIfError is an alias of grace', async () => {
    const cache = stack({ ttl: '10s', staleIfError: '1m' })
    await cache.set('k', 'v1')
    await advance(30_000)
    expect(await cache.get('k', boom)).toBe('v1')
  })

  it('graceBackoff: after a failure, stale is served without calling the factory for that long', async () => {
    const cache = stack({ ttl: '10s', grace: '10m', graceBackoff: '30s' })
    await cache.set('k', 'v1')
    await advance(11_000)
    const factory = vi.fn(boom)
    expect(await cache.get('k', factory)).toBe('v1')
    expect(await cache.get('k', factory)).toBe('v1')
    await advance(29_000)
    expect(await cache.get('k', factory)).toBe('v1')
    expect(factory).toHaveBeenCalledTimes(1)
    await advance(2_000)
    expect(await cache.get('k', () => 'v2')).toBe('v2')
  })

  it('forceFresh runs the factory on a fresh hit, and a failing one still falls back to stale', async () => {
    const cache = stack({ ttl: '10s', grace: '1m' })
    await cache.set('k', 'v1')
    expect(await cache.get('k', () => 'v2', { forceFresh: true })).toBe('v2')
    await advance(20_000)
    expect(await cache.get('k', boom, { forceFresh: true })).toBe('v2')
    await advance(60_000)
    await expect(cache.get('k', boom, { forceFresh: true })).rejects.toBeInstanceOf(FactoryError)
  })

  it('invalidateByTag stays hard with grace; expireByTag is soft', async () => {
    const cache = stack({ ttl: '10s', grace: '1h' })
    await cache.set('a', 'A', { tags: ['t'] })
    await cache.set('b', 'B', { tags: ['u'] })
    await cache.invalidateByTag('t')
    await cache.expireByTag('u')
    await expect(cache.get('a', boom)).rejects.toBeInstanceOf(FactoryError)
    expect(await cache.get('a')).toBeUndefined()
    expect(await cache.has('b')).toBe(false)
    expect(await cache.get('b', boom)).toBe('B')
    expect(await cache.get('b')).toBe('B')
  })
})

describe('timeouts', () => {
  it('soft timeout: stale after the timeout; the factory keeps running and stores its result', async () => {
    const cache = stack({ ttl: '10s', grace: '1m', timeout: '100ms' })
    await cache.set('k', 'old')
    await advance(11_000)
    const gate = deferred<string>()
    const read = cache.get('k', () => gate.promise)
    await advance(100)
    expect(await read).toBe('old')
    gate.resolve('new')
    await vi.advanceTimersByTimeAsync(0)
    expect(await cache.get('k')).toBe('new')
  })

  it('soft timeout without a stale value waits for the factory', async () => {
    const cache = stack({ timeout: '100ms' })
    const read = cache.get('k', async () => {
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      return 'slow'
    })
    await advance(1_000)
    expect(await read).toBe('slow')
  })

  it('hardTimeout rejects with FactoryTimeoutError, aborts ctx.signal, and still stores the late result', async () => {
    const cache = stack({ hardTimeout: '1s' })
    const gate = deferred<string>()
    let signal: AbortSignal | undefined
    const read = cache.get('k', (ctx) => {
      signal = ctx.signal
      return gate.promise
    })
    const caught = read.catch((error: unknown) => error)
    await advance(1_000)
    expect(await caught).toBeInstanceOf(FactoryTimeoutError)
    expect(signal?.aborted).toBe(true)
    expect(signal?.reason).toBeInstanceOf(FactoryTimeoutError)
    gate.resolve('late')
    await vi.advanceTimersByTimeAsync(0)
    expect(await cache.get('k')).toBe('late')
  })

  it('timeout and hardTimeout together: stale at the soft one when at hand, else the hard error', async () => {
    const cache = stack({ ttl: '10s', grace: '1m', timeout: '100ms', hardTimeout: '1s' })
    await cache.set('stale', 'old')
    await advance(11_000)
    const never = () => new Promise<string>(() => {})
    const withStale = cache.get('stale', never)
    await advance(100)
    expect(await withStale).toBe('old')
    const cold = cache.get('cold', never).catch((error: unknown) => error)
    await advance(999)
    let settled = false
    void cold.then(() => {
      settled = true
    })
    await vi.advanceTimersByTimeAsync(0)
    expect(settled).toBe(false)
    await advance(1)
    expect(await cold).toBeInstanceOf(FactoryTimeoutError)
  })

  it('a hard timeout shorter than the soft one serves stale at the hard timeout', async () => {
    const cache = stack({ ttl: '10s', grace: '1m', timeout: '5s', hardTimeout: '200ms' })
    await cache.set('k', 'old')
    await advance(11_000)
    const read = cache.get('k', () => new Promise<string>(() => {}))
    await advance(200)
    expect(await read).toBe('old')
  })

  it('ctx.signal fires on disconnect()', async () => {
    const cache = stack()
    let signal: AbortSignal | undefined
    const read = cache
      .get('k', (ctx) => {
        signal = ctx.signal
        return new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
        )
      })
      .catch((error: unknown) => error)
    await vi.advanceTimersByTimeAsync(0)
    await cache.disconnect()
    expect(signal?.reason).toBeInstanceOf(DisconnectedError)
    expect(await read).toBeInstanceOf(FactoryError)
  })
})

describe('refreshAhead', () => {
  it('refreshes in the background when the remaining fresh time drops below a duration', async () => {
    const cache = stack({ ttl: '60s' })
    const factory = vi.fn().mockResolvedValueOnce('v1').mockResolvedValueOnce('v2')
    expect(await cache.get('k', factory, { refreshAhead: '10s' })).toBe('v1')
    await advance(49_000)
    expect(await cache.get('k', factory, { refreshAhead: '10s' })).toBe('v1')
    expect(factory).toHaveBeenCalledTimes(1)
    await advance(2_000)
    expect(await cache.get('k', factory, { refreshAhead: '10s' })).toBe('v1')
    await vi.advanceTimersByTimeAsync(0)
    expect(factory).toHaveBeenCalledTimes(2)
    expect(await cache.get('k')).toBe('v2')
    expect(await cache.ttl('k')).toBe(60_000)
  })

  it('takes a fraction of the ttl, as a stack default too', async () => {
    const cache = stack({ ttl: '100s', refreshAhead: 0.2 })
    const factory = vi.fn().mockResolvedValueOnce('v1').mockResolvedValueOnce('v2')
    await cache.get('k', factory)
    await advance(79_000)
    await cache.get('k', factory)
    expect(factory).toHaveBeenCalledTimes(1)
    await advance(2_000)
    expect(await cache.get('k', factory)).toBe('v1')
    await vi.advanceTimersByTimeAsync(0)
    expect(await cache.get('k')).toBe('v2')
  })

  it('rejects a non-positive refreshAhead', () => {
    expect(() => stack({ refreshAhead: 0 })).toThrow(expect.objectContaining({ option: 'refreshAhead' }))
  })
})

describe('factory results', () => {
  it('negativeCache stores "not found" for negativeTtl', async () => {
    const cache = stack({ negativeCache: true, negativeTtl: '5s' })
    const factory = vi.fn(() => undefined)
    expect(await cache.get('k', factory)).toBeUndefined()
    expect(await cache.get('k', factory)).toBeUndefined()
    expect(factory).toHaveBeenCalledTimes(1)
    expect(await cache.has('k')).toBe(false)
    await advance(5_000)
    expect(await cache.get('k', () => 'found')).toBe('found')
  })

  it('without negativeCache, undefined is not cached', async () => {
    const cache = stack()
    const factory = vi.fn(() => undefined)
    await cache.get('k', factory)
    await cache.get('k', factory)
    expect(factory).toHaveBeenCalledTimes(2)
  })

  it('shouldCache returns the value but skips storing it', async () => {
    const cache = stack({ shouldCache: (value) => (value as { status: number }).status === 200 })
    expect(await cache.get('k', () => ({ status: 500 }))).toEqual({ status: 500 })
    expect(await cache.get('k')).toBeUndefined()
    await cache.get('k', () => ({ status: 200 }))
    expect(await cache.get('k')).toEqual({ status: 200 })
  })

  it('ctx.skip returns the value uncached', async () => {
    const cache = stack()
    expect(await cache.get('k', (ctx) => ctx.skip('temp'))).toBe('temp')
    expect(await cache.get('k')).toBeUndefined()
  })

  it('ctx.setOptions sets ttl, windows, tags and ttl knobs from inside the factory', async () => {
    const cache = stack({ ttl: '10s' })
    await cache.get('k', (ctx) => {
      ctx.setOptions({ ttl: '1m', staleWhileRevalidate: '1m', tags: ['x'] })
      return 'v'
    })
    expect(await cache.ttl('k')).toBe(60_000)
    await advance(90_000)
    expect(await cache.get('k', () => new Promise(() => {}))).toBe('v')
    await cache.invalidateByTag('x')
    expect(await cache.get('k')).toBeUndefined()
    await cache.get('h', (ctx) => {
      ctx.setOptions({ ttlPolicy: 'next-hour' })
      return 'hourly'
    })
    const ttl = (await cache.ttl('h'))!
    expect((clock.now() + ttl) % 3_600_000).toBe(0)
  })

  it('ctx.gracedEntry is the stale entry in the foreground too, even past grace-less windows', async () => {
    const cache = stack({ ttl: '10s', staleWhileRevalidate: '5s', grace: '1m' })
    await cache.set('k', 'old')
    await advance(30_000)
    let seen: unknown
    await cache.get('k', (ctx) => {
      seen = ctx.gracedEntry?.value
      return 'new'
    })
    expect(seen).toBe('old')
    let none: unknown = 'unset'
    await cache.get('fresh-key', (ctx) => {
      none = ctx.gracedEntry
      return 1
    })
    expect(none).toBeUndefined()
  })
})

describe('ttl: 0 and reads without a fetcher', () => {
  it('ttl: 0 is stale at once and served only inside its windows', async () => {
    const cache = stack()
    await cache.set('gone', 'v', { ttl: 0 })
    expect(await cache.get('gone')).toBeUndefined()
    await cache.set('k', 'v', { ttl: 0, staleWhileRevalidate: '10s' })
    expect(await cache.has('k')).toBe(false)
    expect(await cache.get('k')).toBe('v')
    await advance(10_000)
    expect(await cache.get('k')).toBeUndefined()
  })

  it('get(key) returns values inside SWR or grace as stale hits while has() is false', async () => {
    const cache = stack({ ttl: '10s', staleWhileRevalidate: '10s', grace: '1m' })
    const hits: boolean[] = []
    cache.on('hit', ({ stale }) => hits.push(stale))
    await cache.set('k', 'v')
    await advance(15_000)
    expect(await cache.get('k')).toBe('v')
    await advance(30_000)
    expect(await cache.get('k')).toBe('v')
    expect(await cache.has('k')).toBe(false)
    expect(hits).toEqual([true, true])
    expect(cache.getStats().staleHits).toBe(2)
    await advance(30_000)
    expect(await cache.get('k')).toBeUndefined()
  })
})

import { setTimeout as wait } from 'node:timers/promises'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createTestRedis, uniquePrefix } from '../../../../tools/test-redis.ts'
import { CacheStack, type CacheStackOptions } from '../cache-stack.ts'
import type { CacheLayer } from '../layer.ts'
import { RedisLayer } from '../layers/redis-layer.ts'
import { hitTimerRunning, MAX_USES } from './recent-time.ts'

// Date.now is replaced (not the timers): the stack runs on the default system clock, and the 1 ms timer
// that forgets a reading is real.
let time = 1_700_000_000_000
const stacks: CacheStack[] = []
function stack(options: CacheStackOptions = {}, layers?: CacheLayer[]): CacheStack {
  const cache = new CacheStack(layers, { ttl: 10, ...options })
  stacks.push(cache)
  return cache
}

afterEach(async () => {
  vi.restoreAllMocks()
  await Promise.all(stacks.splice(0).map((cache) => cache.disconnect()))
})

function mockNow() {
  return vi.spyOn(Date, 'now').mockImplementation(() => time)
}

/** `n` hits in a row, no timer running in between (awaits only). */
async function hits(cache: CacheStack, n: number): Promise<unknown[]> {
  const values: unknown[] = []
  for (let i = 0; i < n; i++) values.push(await cache.get('k'))
  return values
}

describe('L1 hits on the system clock', () => {
  it(`read Date.now once per ${MAX_USES} hits; an injected clock is read on every hit`, async () => {
    const now = mockNow()
    const cache = stack({ ttl: '1m' })
    await cache.set('k', 'v')
    now.mockClear()
    expect(await hits(cache, 4 * MAX_USES)).toEqual(Array(4 * MAX_USES).fill('v'))
    expect(now.mock.calls.length).toBeGreaterThanOrEqual(3)
    expect(now.mock.calls.length).toBeLessThanOrEqual(5)

    let reads = 0
    const injected = stack({
      ttl: '1m',
      clock: {
        now: () => {
          reads++
          return time
        },
      },
    })
    await injected.set('k', 'v')
    reads = 0
    await hits(injected, 4 * MAX_USES)
    expect(reads).toBe(4 * MAX_USES)
  })

  it('never judge with a time older than the last write: a ttl 0 entry is stale at once', async () => {
    mockNow()
    const cache = stack()
    const stale: boolean[] = []
    cache.on('hit', (event) => stale.push(event.stale))
    await cache.get('warm') // a reading at `time`
    time += 5_000
    await cache.set('k', 'v', { ttl: 0, staleWhileRevalidate: '1m' })
    // With the reading of the miss above, the entry would look fresh for 5 s.
    expect(await cache.get('k')).toBe('v')
    expect(stale).toEqual([true])
  })

  it(`read the clock again after ${MAX_USES} hits, however long no timer has run`, async () => {
    mockNow()
    const cache = stack()
    await cache.set('k', 'v')
    time += 60_000
    const values = await hits(cache, MAX_USES + 4)
    const first = values.indexOf(undefined)
    expect(first).toBeGreaterThanOrEqual(0)
    expect(first).toBeLessThanOrEqual(MAX_USES)
    expect(values.slice(first)).toEqual(Array(values.length - first).fill(undefined))
  })

  it('forget the reading once a 1 ms timer has run', async () => {
    mockNow()
    const cache = stack()
    await cache.set('k', 'v')
    expect(await cache.get('k')).toBe('v')
    time += 11
    // Timers run in the order they are due: this one is due after the stack's.
    await wait(3)
    expect(await cache.get('k')).toBeUndefined()
  })

  it('arm the 1 ms timer on L1 hits only: misses and writes leave no timer behind', async () => {
    const client = createTestRedis()
    try {
      const shared = stack({ ttl: '1m' }, [new RedisLayer({ client, prefix: uniquePrefix('recent') })])
      await wait(3) // a timer armed by an earlier test has run
      expect(hitTimerRunning()).toBe(false)
      await shared.set('k', 'v', { tags: ['t'] })
      expect(await shared.get('k')).toBe('v')
      expect(await shared.get('missing')).toBeUndefined()
      expect(await shared.getOrSet('computed', async () => 1)).toBe(1)
      await shared.invalidateByTag('t')
      expect(await shared.get('k')).toBeUndefined()
      expect(hitTimerRunning()).toBe(false)

      const local = stack({ ttl: '1m' })
      await local.set('k', 'v')
      expect(await local.get('missing')).toBeUndefined()
      expect(await local.getOrSet('computed', async () => 1)).toBe(1)
      expect(hitTimerRunning()).toBe(false)
      expect(await local.get('k')).toBe('v')
      expect(hitTimerRunning()).toBe(true)
      await wait(3)
      expect(hitTimerRunning()).toBe(false)
    } finally {
      await Promise.all(stacks.splice(0).map((cache) => cache.disconnect()))
      client.disconnect()
    }
  })

  it('read the clock on every hit while fake timers replace Date, so a jump in fake time is seen at once', async () => {
    // What an app's own tests do: fake timers (Date included), a write, time moved by hand, a read.
    vi.useFakeTimers({ now: time })
    try {
      const cache = stack({ ttl: '1s' })
      await cache.set('k', 'v')
      expect(await cache.get('k')).toBe('v')
      vi.advanceTimersByTime(2_000)
      expect(await cache.get('k')).toBeUndefined()

      await cache.set('k', 'v')
      expect(await cache.get('k')).toBe('v')
      vi.setSystemTime(Date.now() + 2_000)
      expect(await cache.get('k')).toBeUndefined()
    } finally {
      vi.useRealTimers()
    }
  })
})

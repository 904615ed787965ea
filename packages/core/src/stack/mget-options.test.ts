import { afterEach, describe, expect, it, vi } from 'vitest'
import { CacheStack, type CacheStackOptions } from '../cache-stack.ts'
import { createManualClock } from '../testing/index.ts'

let clock = createManualClock(1_700_000_000_000)
const stacks: CacheStack[] = []
function stack(options: CacheStackOptions = {}): CacheStack {
  clock = createManualClock(1_700_000_000_000)
  const cache = new CacheStack(undefined, { clock, ...options })
  stacks.push(cache)
  return cache
}
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((cache) => cache.disconnect()))
})

describe('mget honours the options get honours on a fresh hit (issue 10)', () => {
  it('per-item forceFresh runs the fetcher on a fresh entry', async () => {
    const cache = stack({ ttl: '1m' })
    await cache.set('k', 'old')
    const fetch = vi.fn(() => 'new')
    expect(await cache.mget([{ key: 'k', fetch, forceFresh: true }, 'k'])).toEqual(['new', 'old'])
    expect(fetch).toHaveBeenCalledTimes(1)
    expect(await cache.get('k')).toBe('new')
  })

  it('stack-default forceFresh too', async () => {
    const cache = stack({ ttl: '1m', forceFresh: true })
    await cache.set('k', 'old')
    expect(await cache.mget([{ key: 'k', fetch: () => 'new' }])).toEqual(['new'])
  })

  it('slidingTtl (stack default and per item): an mget hit moves the fresh period like a get hit', async () => {
    for (const [options, item] of [
      [{ ttl: 1_000, slidingTtl: true }, {}],
      [{ ttl: 1_000 }, { slidingTtl: true, ttl: 1_000 }],
    ] as const) {
      const cache = stack(options)
      await cache.set('k', 'v', item)
      clock.advance(800)
      expect(await cache.mget([{ key: 'k', ...item }])).toEqual(['v'])
      clock.advance(800)
      // 1,600 ms after the write: alive only because the mget hit slid it to 800 + 1,000.
      expect(await cache.has('k')).toBe(true)
    }
  })

  it('per-item refreshAhead starts a background refresh on a hit near the end of the ttl', async () => {
    const cache = stack({ ttl: 1_000 })
    await cache.set('k', 'old')
    clock.advance(900)
    const fetch = vi.fn(async () => 'new')
    expect(await cache.mget([{ key: 'k', fetch, refreshAhead: 0.2 }])).toEqual(['old'])
    await vi.waitFor(() => expect(fetch).toHaveBeenCalledTimes(1))
    await vi.waitFor(async () => expect(await cache.get('k')).toBe('new'))
  })

  it('adaptiveTtl: mget hits count towards making a key hot', async () => {
    const cache = stack({ ttl: 1_000, adaptiveTtl: { hotAfter: 2, step: 1_000, maxTtl: 10_000 } })
    await cache.set('k', 'v1')
    await cache.mget(['k'])
    await cache.mget(['k'])
    await cache.set('k', 'v2')
    // Hot after two mget hits: the new write gets ttl + step.
    clock.advance(1_500)
    expect(await cache.has('k')).toBe(true)
  })
})

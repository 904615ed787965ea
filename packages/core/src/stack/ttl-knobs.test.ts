import type { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createTestRedis, uniquePrefix } from '../../../../tools/test-redis.ts'
import { CacheStack, type CacheStackOptions } from '../cache-stack.ts'
import { MemoryLayer } from '../layers/memory-layer.ts'
import { RedisLayer } from '../layers/redis-layer.ts'
import { adaptiveTtl, jitterTtl, policyTtl, zoneOffset } from './ttl-policy.ts'

function manualClock(start = Date.UTC(2026, 2, 10, 14, 20, 0)) {
  let now = start
  return { now: () => now, advance: (ms: number) => void (now += ms), set: (t: number) => void (now = t) }
}

let clock = manualClock()
const stacks: CacheStack[] = []
function stack(options: CacheStackOptions = {}, layers?: ConstructorParameters<typeof CacheStack>[0]) {
  const cache = new CacheStack(layers, { clock, ...options })
  stacks.push(cache)
  return cache
}
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((cache) => cache.disconnect()))
  clock = manualClock()
})

describe('slidingTtl', () => {
  it('each hit extends the fresh period by ttl; an idle entry expires', async () => {
    const cache = stack({ ttl: '10s' })
    await cache.set('session', 'abc', { slidingTtl: true })
    for (let i = 0; i < 5; i++) {
      clock.advance(8_000)
      expect(await cache.get('session')).toBe('abc')
    }
    expect(await cache.ttl('session')).toBe(10_000)
    clock.advance(10_000)
    expect(await cache.get('session')).toBeUndefined()
  })

  it('a stack default makes every entry slide, and a read can ask for it', async () => {
    const cache = stack({ ttl: '10s', slidingTtl: true })
    await cache.get('a', () => 1)
    clock.advance(9_000)
    await cache.get('a')
    expect(await cache.ttl('a')).toBe(10_000)
    const plain = stack({ ttl: '10s' })
    await plain.set('b', 2)
    clock.advance(9_000)
    expect(await plain.get('b', undefined, { slidingTtl: true })).toBe(2)
    expect(await plain.ttl('b')).toBe(10_000)
  })

  it('stale hits do not slide, and entries keep their windows when they slide', async () => {
    const cache = stack({ ttl: '10s', grace: '1m', slidingTtl: true })
    await cache.set('k', 'v')
    clock.advance(5_000)
    await cache.get('k')
    expect((await cache.inspect('k'))?.staleTtl).toBe(70_000)
    clock.advance(20_000)
    expect(await cache.get('k')).toBe('v')
    expect(await cache.has('k')).toBe(false)
  })

  describe('with Redis', () => {
    let client: Redis
    beforeAll(() => {
      client = createTestRedis()
    })
    afterAll(async () => {
      await client.quit()
    })

    it('writes Redis only when its copy has less than half the ttl left, not on every hit', async () => {
      const prefix = uniquePrefix('sliding')
      const redis = new RedisLayer({ client, prefix })
      const cache = stack({ ttl: '10s', slidingTtl: true }, [new MemoryLayer(), redis])
      const writes = vi.spyOn(redis, 'set')
      await cache.set('s', 'v')
      expect(writes).toHaveBeenCalledTimes(1)
      for (let i = 0; i < 100; i++) {
        clock.advance(100)
        await cache.get('s')
      }
      // 10 s of hits at 10 per second: about two shared writes, not a hundred.
      await vi.waitFor(() => expect(writes.mock.calls.length).toBeGreaterThanOrEqual(2))
      expect(writes.mock.calls.length).toBeLessThanOrEqual(4)
      const shared = await redis.get('s')
      expect(shared!.freshUntil - clock.now()).toBeGreaterThan(5_000)
      // Another instance reading Redis finds a fresh copy.
      const other = stack({ ttl: '10s' }, [new MemoryLayer(), new RedisLayer({ client, prefix })])
      expect(await other.has('s')).toBe(true)
    })
  })
})

describe('ttlJitter', () => {
  it('stores ttl ± uniform(0, J), never below 1 ms, and leaves ttl 0 alone', async () => {
    expect(jitterTtl(10_000, 2_000, () => 0)).toBe(8_000)
    expect(jitterTtl(10_000, 2_000, () => 0.9999999)).toBe(12_000)
    expect(jitterTtl(5, 100, () => 0)).toBe(1)
    expect(jitterTtl(0, 100, () => 0.9)).toBe(0)
    const cache = stack({ ttl: '60s', ttlJitter: '10s' })
    const ttls = new Set<number>()
    for (let i = 0; i < 50; i++) {
      await cache.set(`k${i}`, i)
      const ttl = (await cache.ttl(`k${i}`))!
      expect(ttl).toBeGreaterThanOrEqual(50_000)
      expect(ttl).toBeLessThanOrEqual(70_000)
      ttls.add(ttl)
    }
    expect(ttls.size).toBeGreaterThan(10)
  })
})

describe('ttlPolicy', () => {
  it("'until-midnight' and 'next-hour' in UTC", async () => {
    const cache = stack()
    await cache.set('daily', 1, { ttlPolicy: 'until-midnight' })
    await cache.set('hourly', 1, { ttlPolicy: 'next-hour' })
    expect(await cache.ttl('daily')).toBe(Date.UTC(2026, 2, 11) - clock.now())
    expect(await cache.ttl('hourly')).toBe(40 * 60_000)
  })

  it('{ alignTo } expires at the next multiple of the duration; exactly on a boundary means a full period', async () => {
    const cache = stack()
    await cache.set('k', 1, { ttlPolicy: { alignTo: '15m' } })
    expect(await cache.ttl('k')).toBe(10 * 60_000)
    clock.set(Date.UTC(2026, 2, 10, 14, 30, 0))
    await cache.set('k', 1, { ttlPolicy: { alignTo: '15m' } })
    expect(await cache.ttl('k')).toBe(15 * 60_000)
  })

  it('uses the wall clock of a time zone, DST included', () => {
    // 14:20 UTC on 10 March 2026 is 10:20 in New York (EDT since 8 March): midnight is 13h40m away.
    const now = Date.UTC(2026, 2, 10, 14, 20, 0)
    expect(policyTtl({ kind: 'until-midnight' }, 'America/New_York', now, 'k', 1)).toBe(
      13 * 3_600_000 + 40 * 60_000,
    )
    // Kolkata is UTC+5:30: the next local hour starts at 14:30 UTC.
    expect(policyTtl({ kind: 'next-hour' }, 'Asia/Kolkata', now, 'k', 1)).toBe(10 * 60_000)
    // The night the clocks go forward in Paris (29 March 2026) lasts 23 hours.
    const evening = Date.UTC(2026, 2, 28, 23, 0, 0) // midnight in Paris, CET
    expect(policyTtl({ kind: 'until-midnight' }, 'Europe/Paris', evening, 'k', 1)).toBe(23 * 3_600_000)
    expect(zoneOffset('Europe/Paris', evening)).toBe(3_600_000)
  })

  it('a function receives { key, value } and returns a duration; undefined keeps the ttl', async () => {
    const cache = stack({ ttl: '30s' })
    const seen: unknown[] = []
    const ttlPolicy = ({ key, value }: { key: string; value: unknown }) => {
      seen.push({ key, value })
      return key.startsWith('hot:') ? '5s' : undefined
    }
    await cache.set('hot:1', 'x', { ttlPolicy })
    await cache.namespace('ns').set('cold', 'y', { ttlPolicy })
    expect(await cache.ttl('hot:1')).toBe(5_000)
    expect(await cache.namespace('ns').ttl('cold')).toBe(30_000)
    expect(seen).toEqual([
      { key: 'hot:1', value: 'x' },
      { key: 'ns:cold', value: 'y' },
    ])
  })

  it('timeZone on the stack applies to every write; bad policies and zones fail fast', async () => {
    const cache = stack({ ttlPolicy: 'until-midnight', timeZone: 'Asia/Tokyo' })
    await cache.set('k', 1)
    // 14:20 UTC is 23:20 in Tokyo.
    expect(await cache.ttl('k')).toBe(40 * 60_000)
    expect(() => stack({ timeZone: 'Mars/Olympus' })).toThrow(expect.objectContaining({ option: 'timeZone' }))
    expect(() => stack({ ttlPolicy: 'weekly' as never })).toThrow(
      expect.objectContaining({ option: 'ttlPolicy' }),
    )
    expect(() => stack({ ttlPolicy: { alignTo: 'soon' as never } })).toThrow(/ttlPolicy.alignTo/)
  })
})

describe('adaptiveTtl', () => {
  it('ramps the ttl of hot keys by step per hotAfter hits, up to maxTtl', () => {
    const options = { hotAfter: 5, step: 60_000, maxTtl: 300_000 }
    expect(adaptiveTtl(60_000, 4, options)).toBe(60_000)
    expect(adaptiveTtl(60_000, 5, options)).toBe(120_000)
    expect(adaptiveTtl(60_000, 12, options)).toBe(180_000)
    expect(adaptiveTtl(60_000, 1_000, options)).toBe(300_000)
    expect(adaptiveTtl(60_000, 3, { hotAfter: 3, step: undefined, maxTtl: undefined })).toBe(90_000)
  })

  it('a key read often gets a longer ttl on its next write; a cold key keeps the base ttl', async () => {
    const cache = stack({ ttl: '1m', adaptiveTtl: { hotAfter: 3, step: '1m', maxTtl: '5m' } })
    await cache.get('hot', () => 'h')
    await cache.get('cold', () => 'c')
    for (let i = 0; i < 6; i++) await cache.get('hot', () => 'h')
    clock.advance(60_000)
    await cache.get('hot', () => 'h2')
    await cache.get('cold', () => 'c2')
    expect(await cache.ttl('hot')).toBe(3 * 60_000)
    expect(await cache.ttl('cold')).toBe(60_000)
    expect(() => stack({ adaptiveTtl: { hotAfter: 0 } })).toThrow(/adaptiveTtl.hotAfter/)
  })
})

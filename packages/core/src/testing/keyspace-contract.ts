import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CacheStack } from '../cache-stack.ts'
import { CacheKeyExistsError, CacheMissError, KeyspaceTypeError, ValidationError } from '../errors.ts'
import {
  expireDailyAt,
  expireIn,
  expireInMinutes,
  expireInSeconds,
  keepTtl,
  neverExpire,
} from '../keyspace/expiry.ts'
import { createTestCache, type TestCache } from '../test-cache.ts'
import { type AdvanceableClock, createManualClock } from './layer-contract.ts'

// 2025-01-01 23:00:00 UTC: an hour before the next midnight, for expireDailyAt.
const START = Date.UTC(2025, 0, 1, 23)

/** A TTL read back from Redis may be a few ms under what was set (it counts real time). */
function expectTtlNear(ttl: number | undefined, expected: number): void {
  expect(ttl).toBeDefined()
  expect(ttl!).toBeLessThanOrEqual(expected)
  expect(ttl!).toBeGreaterThan(expected - 5_000)
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

/**
 * The behaviour every keyspace backend shows (memory, Redis, Redis Cluster): registers a Vitest `describe`
 * block whose tests each run in a namespace of their own (`createTestCache`) on the stack `createCache`
 * builds around `clock`. Memory expiry is also checked by moving the clock (`clockDrivesExpiry`).
 */
export function describeKeyspaceContract(
  name: string,
  createCache: (clock: AdvanceableClock) => CacheStack,
  options: { clockDrivesExpiry: boolean },
): void {
  describe(`keyspace contract: ${name}`, () => {
    let clock: AdvanceableClock
    let shared: CacheStack
    let test: TestCache
    let cache: CacheStack
    let closed = false
    beforeEach(() => {
      closed = false
      clock = createManualClock(START)
      shared = createCache(clock)
      test = createTestCache(shared, 'ks')
      cache = test.cache
    })
    afterEach(async () => {
      if (!closed) await test.cleanup()
      await shared.disconnect()
    })

    it('string: get/set, append and strlen count UTF-8 bytes', async () => {
      const tokens = cache.keyspace({ kind: 'string', pattern: 'token/:id' })
      expect(await tokens.get({ id: 'a' })).toBeUndefined()
      await tokens.set({ id: 'a' }, 'abc')
      expect(await tokens.get({ id: 'a' })).toBe('abc')
      expect(await tokens.append({ id: 'a' }, 'é')).toBe(5)
      expect(await tokens.append({ id: 'new' }, 'xy')).toBe(2)
      expect(await tokens.strlen({ id: 'a' })).toBe(5)
      expect(await tokens.strlen({ id: 'none' })).toBe(0)
      expect(await tokens.get({ id: 'a' })).toBe('abcé')
    })

    it('string: getRange has GETRANGE semantics (inclusive, negative from the end, clamped)', async () => {
      const texts = cache.keyspace({ kind: 'string', pattern: 'text/:id' })
      await texts.set({ id: 'a' }, 'Hello World')
      const cases: [number, number, string][] = [
        [0, 4, 'Hello'],
        [-5, -1, 'World'],
        [6, 100, 'World'],
        [-100, 1, 'He'],
        [5, 2, ''],
        [-1, -5, ''],
        [20, 30, ''],
        [0, -1, 'Hello World'],
        [3, 3, 'l'],
      ]
      for (const [start, end, expected] of cases) {
        expect([start, end, await texts.getRange({ id: 'a' }, start, end)]).toEqual([start, end, expected])
      }
      expect(await texts.getRange({ id: 'none' }, 0, -1)).toBe('')
    })

    it('string: setRange overwrites by byte offset and pads with zero bytes', async () => {
      const texts = cache.keyspace({ kind: 'string', pattern: 'text/:id' })
      await texts.set({ id: 'a' }, 'Hello World')
      expect(await texts.setRange({ id: 'a' }, 6, 'Redis')).toBe(11)
      expect(await texts.get({ id: 'a' })).toBe('Hello Redis')
      expect(await texts.setRange({ id: 'b' }, 3, 'x')).toBe(4)
      expect(await texts.get({ id: 'b' })).toBe('\u0000\u0000\u0000x')
      expect(await texts.setRange({ id: 'c' }, 2, '')).toBe(0)
      expect(await texts.ttl({ id: 'c' })).toBeUndefined()
      expect(await rejection(texts.setRange({ id: 'a' }, -1, 'x'))).toBeInstanceOf(ValidationError)
    })

    it('int: a missing key counts from 0; increment and decrement are exact', async () => {
      const counters = cache.keyspace({ kind: 'int', pattern: 'counter/:name' })
      expect(await counters.increment({ name: 'a' })).toBe(1)
      expect(await counters.increment({ name: 'a' }, 41)).toBe(42)
      expect(await counters.decrement({ name: 'a' }, 50)).toBe(-8)
      expect(await counters.decrement({ name: 'b' })).toBe(-1)
      expect(await counters.get({ name: 'a' })).toBe(-8)
      await counters.set({ name: 'c' }, 2 ** 52)
      expect(await counters.increment({ name: 'c' }, 3)).toBe(2 ** 52 + 3)
      expect(await rejection(counters.increment({ name: 'a' }, 1.5))).toBeInstanceOf(ValidationError)
      expect(await rejection(counters.set({ name: 'a' }, 0.5))).toBeInstanceOf(ValidationError)
    })

    it('int: 200 concurrent increments all count', async () => {
      const counters = cache.keyspace({ kind: 'int', pattern: 'hits/:page' })
      await Promise.all(Array.from({ length: 200 }, () => counters.increment({ page: 'home' })))
      expect(await counters.get({ page: 'home' })).toBe(200)
    })

    it('float: increments add IEEE doubles, the same numbers everywhere', async () => {
      const scores = cache.keyspace({ kind: 'float', pattern: 'score/:id' })
      expect(await scores.increment({ id: 'a' }, 0.1)).toBe(0.1)
      expect(await scores.increment({ id: 'a' }, 0.2)).toBe(0.1 + 0.2)
      expect(await scores.get({ id: 'a' })).toBe(0.30000000000000004)
      expect(await scores.decrement({ id: 'b' }, 2.5)).toBe(-2.5)
      await scores.set({ id: 'c' }, 1e308)
      expect(await rejection(scores.increment({ id: 'c' }, 1e308))).toBeInstanceOf(ValidationError)
      expect(await scores.get({ id: 'c' })).toBe(1e308)
      expect(await rejection(scores.set({ id: 'c' }, Number.NaN))).toBeInstanceOf(ValidationError)
    })

    it('struct: JSON objects round-trip; setIfNotExists and replace are conditional', async () => {
      const profiles = cache.keyspace({ pattern: 'profile/:userId' }).of<{ name: string; tags: string[] }>()
      await profiles.setIfNotExists({ userId: 'u1' }, { name: 'Ada', tags: ['x'] })
      const exists = await rejection(profiles.setIfNotExists({ userId: 'u1' }, { name: 'Bob', tags: [] }))
      expect(exists).toBeInstanceOf(CacheKeyExistsError)
      expect((exists as CacheKeyExistsError).key).toBe(`${test.namespace}:profile/u1`)
      expect(await profiles.get({ userId: 'u1' })).toEqual({ name: 'Ada', tags: ['x'] })
      expect(await rejection(profiles.replace({ userId: 'u2' }, { name: 'C', tags: [] }))).toBeInstanceOf(
        CacheMissError,
      )
      expect(await profiles.get({ userId: 'u2' })).toBeUndefined()
      await profiles.replace({ userId: 'u1' }, { name: 'Ada L.', tags: [] })
      expect(await profiles.get({ userId: 'u1' })).toEqual({ name: 'Ada L.', tags: [] })
      expect(await profiles.delete({ userId: 'u1' })).toBe(true)
      expect(await profiles.delete({ userId: 'u1' })).toBe(false)
    })

    it('lists: pushes, pops and LRANGE ranges (inclusive, negative indexes)', async () => {
      const recent = cache.keyspace({ kind: 'stringList', pattern: 'recent/:userId' })
      const key = { userId: 'u1' }
      expect(await recent.pushRight(key, 'c', 'd')).toBe(2)
      expect(await recent.pushLeft(key, 'b', 'a')).toBe(4)
      expect(await recent.items(key)).toEqual(['a', 'b', 'c', 'd'])
      const cases: [number, number, string[]][] = [
        [0, -1, ['a', 'b', 'c', 'd']],
        [1, 2, ['b', 'c']],
        [-2, -1, ['c', 'd']],
        [-100, 0, ['a']],
        [2, 100, ['c', 'd']],
        [3, 1, []],
        [4, 10, []],
        [-1, -3, []],
      ]
      for (const [start, stop, expected] of cases) {
        expect([start, stop, await recent.getRange(key, start, stop)]).toEqual([start, stop, expected])
      }
      expect(await recent.popLeft(key)).toBe('a')
      expect(await recent.popRight(key)).toBe('d')
      expect(await recent.length(key)).toBe(2)
      await recent.popLeft(key)
      await recent.popLeft(key)
      expect(await recent.popLeft(key)).toBeUndefined()
      expect(await recent.ttl(key)).toBeUndefined()
      expect(await rejection(recent.pushLeft(key))).toBeInstanceOf(ValidationError)
    })

    it('number lists and sets store numbers (1.0 and 1 are one member)', async () => {
      const history = cache.keyspace({ kind: 'numberList', pattern: 'history/:id' })
      await history.pushRight({ id: 'p' }, 100, 1.5, -0, 2 ** 53 - 1)
      expect(await history.items({ id: 'p' })).toEqual([100, 1.5, 0, 2 ** 53 - 1])
      const unique = cache.keyspace({ kind: 'numberSet', pattern: 'unique/:id' })
      expect(await unique.add({ id: 'g' }, 1, 1.0, 2.5, 3)).toBe(3)
      expect(await unique.contains({ id: 'g' }, 2.5)).toBe(true)
      expect((await unique.members({ id: 'g' })).sort((a, b) => a - b)).toEqual([1, 2.5, 3])
      expect(await rejection(unique.add({ id: 'g' }, Number.POSITIVE_INFINITY))).toBeInstanceOf(
        ValidationError,
      )
    })

    it('string sets: add, remove, contains, members, size; the last removal removes the key', async () => {
      const tags = cache.keyspace({ kind: 'stringSet', pattern: 'tags/:articleId' })
      const key = { articleId: 'post1' }
      expect(await tags.add(key, 'ts', 'redis', 'ts')).toBe(2)
      expect(await tags.add(key, 'redis', 'node')).toBe(1)
      expect(await tags.size(key)).toBe(3)
      expect(await tags.contains(key, 'node')).toBe(true)
      expect(await tags.contains(key, 'go')).toBe(false)
      expect((await tags.members(key)).sort()).toEqual(['node', 'redis', 'ts'])
      expect(await tags.remove(key, 'node', 'go')).toBe(1)
      expect(await tags.remove(key, 'ts', 'redis')).toBe(2)
      expect(await tags.size(key)).toBe(0)
      expect(await tags.members(key)).toEqual([])
      expect(await tags.ttl(key)).toBeUndefined()
    })

    it('expiry: per write, default, keepTtl, neverExpire; set without expiry drops it, increment keeps it', async () => {
      const counters = cache.keyspace({ kind: 'int', pattern: 'c/:id', defaultExpiry: expireInSeconds(10) })
      await counters.increment({ id: 'a' })
      expectTtlNear(await counters.ttl({ id: 'a' }), 10_000)
      await counters.set({ id: 'a' }, 5, { expiry: expireInMinutes(2) })
      expectTtlNear(await counters.ttl({ id: 'a' }), 120_000)
      await counters.increment({ id: 'a' }, 1, { expiry: keepTtl })
      expectTtlNear(await counters.ttl({ id: 'a' }), 120_000)
      await counters.set({ id: 'a' }, 7, { expiry: neverExpire })
      expect(await counters.ttl({ id: 'a' })).toBe(Number.POSITIVE_INFINITY)
      expect(await counters.get({ id: 'a' })).toBe(7)

      const plain = cache.keyspace({ kind: 'string', pattern: 's/:id' })
      await plain.set({ id: 'a' }, 'x', { expiry: expireIn(60_000) })
      await plain.append({ id: 'a' }, 'y')
      expectTtlNear(await plain.ttl({ id: 'a' }), 60_000)
      await plain.set({ id: 'a' }, 'z')
      expect(await plain.ttl({ id: 'a' })).toBe(Number.POSITIVE_INFINITY)
      await plain.set({ id: 'a' }, 'w', { expiry: keepTtl })
      expect(await plain.ttl({ id: 'a' })).toBe(Number.POSITIVE_INFINITY)
      expect(await plain.expire({ id: 'a' }, expireIn(5_000))).toBe(true)
      expectTtlNear(await plain.ttl({ id: 'a' }), 5_000)
      expect(await plain.expire({ id: 'none' }, expireIn(5_000))).toBe(false)
      expect(await plain.ttl({ id: 'none' })).toBeUndefined()
    })

    it('withExpiry: list and set writes with an expiry of their own; the keyspace itself is unchanged', async () => {
      const recent = cache.keyspace({ kind: 'stringList', pattern: 'recent/:id' })
      await recent.withExpiry(expireInMinutes(5)).pushLeft({ id: 'a' }, 'x')
      expectTtlNear(await recent.ttl({ id: 'a' }), 300_000)
      await recent.pushLeft({ id: 'a' }, 'y')
      expectTtlNear(await recent.ttl({ id: 'a' }), 300_000)
      await recent.withExpiry(neverExpire).pushRight({ id: 'a' }, 'z')
      expect(await recent.ttl({ id: 'a' })).toBe(Number.POSITIVE_INFINITY)
      const seen = cache.keyspace({ kind: 'numberSet', pattern: 'seen/:id' }).withExpiry(expireIn(1_000))
      await seen.add({ id: 'a' }, 1)
      expectTtlNear(await seen.ttl({ id: 'a' }), 1_000)
      expect(await seen.members({ id: 'a' })).toEqual([1])
    })

    it('expireDailyAt is the next UTC time of day on the stack clock', async () => {
      const daily = cache.keyspace({
        kind: 'stringSet',
        pattern: 'daily/:id',
        defaultExpiry: expireDailyAt(0, 0, 0),
      })
      await daily.add({ id: 'a' }, 'x')
      expectTtlNear(await daily.ttl({ id: 'a' }), 3_600_000)
      const later = cache.keyspace({ kind: 'string', pattern: 'later/:id' })
      await later.set({ id: 'a' }, 'x', { expiry: expireDailyAt(22, 30) })
      expectTtlNear(await later.ttl({ id: 'a' }), 23.5 * 3_600_000)
    })

    it('keys: a missing or extra field is a ValidationError naming it; values are escaped', async () => {
      const requests = cache.keyspace({ kind: 'int', pattern: 'requests/:userId/:path' })
      const missing = await rejection(requests.increment({ userId: 'u' } as never))
      expect(missing).toBeInstanceOf(ValidationError)
      expect((missing as ValidationError).option).toBe('path')
      const extra = await rejection(requests.increment({ userId: 'u', path: 'p', other: 1 } as never))
      expect((extra as ValidationError).option).toBe('other')
      await requests.increment({ userId: 'a/b', path: 'c' })
      expect(await requests.get({ userId: 'a', path: 'b/c' })).toBeUndefined()
      expect(await requests.get({ userId: 'a/b', path: 'c' })).toBe(1)
      expect(await requests.increment({ userId: 7, path: 'x' })).toBe(1)
      expect(await requests.get({ userId: '7', path: 'x' })).toBe(1)
    })

    it('a key holding another kind is a KeyspaceTypeError', async () => {
      const strings = cache.keyspace({ kind: 'string', pattern: 'shared/:id' })
      const lists = cache.keyspace({ kind: 'stringList', pattern: 'shared/:id' })
      const ints = cache.keyspace({ kind: 'int', pattern: 'shared/:id' })
      await strings.set({ id: 'z' }, '-0')
      expect(await rejection(ints.increment({ id: 'z' }))).toBeInstanceOf(KeyspaceTypeError)
      await strings.set({ id: 'a' }, 'not a number')
      expect(await rejection(lists.pushLeft({ id: 'a' }, 'x'))).toBeInstanceOf(KeyspaceTypeError)
      expect(await rejection(ints.increment({ id: 'a' }))).toBeInstanceOf(KeyspaceTypeError)
      // The same through the one-step write with an expiry (a script on Redis).
      const expiring = ints.withExpiry(expireIn(60_000))
      expect(await rejection(expiring.increment({ id: 'a' }))).toBeInstanceOf(KeyspaceTypeError)
      await lists.pushLeft({ id: 'l' }, 'x')
      const floats = cache.keyspace({ kind: 'float', pattern: 'shared/:id' })
      expect(await rejection(floats.increment({ id: 'l' }, 1))).toBeInstanceOf(KeyspaceTypeError)
      expect(await rejection(floats.increment({ id: 'a' }, 1))).toBeInstanceOf(KeyspaceTypeError)
      expect(await rejection(strings.get({ id: 'l' }))).toBeInstanceOf(KeyspaceTypeError)
      expect(await ints.get({ id: 'a' })).toBeUndefined()
      expect(await strings.get({ id: 'a' })).toBe('not a number')
    })

    it('keyspace keys are apart from cache entries and other namespaces; clear() removes its namespace only', async () => {
      const counters = cache.keyspace({ kind: 'int', pattern: 'counter/:id' })
      await cache.set('counter/a', 'an entry')
      await counters.increment({ id: 'a' }, 3)
      expect(await cache.get('counter/a')).toBe('an entry')
      await cache.invalidateByPrefix('counter/')
      await shared.invalidateByPattern('*')
      await cache.invalidateByTag('counter')
      expect(await counters.get({ id: 'a' })).toBe(3)
      const other = shared.namespace(`${test.namespace}-other`)
      const otherCounters = other.keyspace({ kind: 'int', pattern: 'counter/:id' })
      await otherCounters.increment({ id: 'a' }, 10)
      await cache.clear()
      expect(await counters.get({ id: 'a' })).toBeUndefined()
      expect(await otherCounters.get({ id: 'a' })).toBe(10)
      await other.clear()
      expect(await otherCounters.get({ id: 'a' })).toBeUndefined()
    })

    it('a disconnected stack refuses keyspace operations', async () => {
      const counters = cache.keyspace({ kind: 'int', pattern: 'counter/:id' })
      closed = true
      await shared.disconnect()
      expect((await rejection(counters.increment({ id: 'a' }))) as Error).toHaveProperty(
        'code',
        'E_DISCONNECTED',
      )
    })

    if (options.clockDrivesExpiry) {
      it('keys expire when the stack clock passes their expiry', async () => {
        const counters = cache.keyspace({ kind: 'int', pattern: 'c/:id', defaultExpiry: expireIn(1_000) })
        await counters.increment({ id: 'a' })
        clock.advance(999)
        expect(await counters.get({ id: 'a' })).toBe(1)
        clock.advance(1)
        expect(await counters.get({ id: 'a' })).toBeUndefined()
        expect(await counters.increment({ id: 'a' })).toBe(1)
        const daily = cache.keyspace({ kind: 'string', pattern: 'd/:id', defaultExpiry: expireDailyAt(0) })
        await daily.set({ id: 'a' }, 'x')
        expect(await daily.ttl({ id: 'a' })).toBe(3_600_000 - 1_000)
        clock.advance(3_600_000 - 1_000 - 1)
        expect(await daily.get({ id: 'a' })).toBe('x')
        clock.advance(1)
        expect(await daily.get({ id: 'a' })).toBeUndefined()
      })
    }
  })
}

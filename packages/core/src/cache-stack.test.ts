import { tracingChannel } from 'node:diagnostics_channel'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { CacheStack } from './cache-stack.ts'
import {
  CacheMissError,
  createCacheManager,
  DisconnectedError,
  FactoryError,
  MemoryLayer,
  OPERATION_CHANNEL,
  ValidationError,
} from './index.ts'
import { createManualClock } from './testing/index.ts'

const manualClock = (start = 1_700_000_000_000) => createManualClock(start)

const stacks: CacheStack[] = []
function stack(...args: ConstructorParameters<typeof CacheStack>): CacheStack {
  const cache = new CacheStack(...args)
  stacks.push(cache)
  return cache
}
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((cache) => cache.disconnect()))
})

describe('CacheStack basics', () => {
  it('reads what it wrote, keeps null as a value and answers undefined on a miss', async () => {
    const cache = stack()
    await cache.set('a', { n: 1 })
    await cache.set('nothing', null)
    expect(await cache.get('a')).toEqual({ n: 1 })
    expect(await cache.get('nothing')).toBeNull()
    expect(await cache.has('nothing')).toBe(true)
    expect(await cache.get('absent')).toBeUndefined()
  })

  it('refuses bad keys, undefined values and bad durations with a TypeError naming the problem', async () => {
    const cache = stack()
    for (const key of ['', 42, null, undefined, {}]) {
      await expect(cache.set(key as never, 1)).rejects.toBeInstanceOf(TypeError)
    }
    await expect(cache.get('')).rejects.toThrow(/"key" must be a non-empty string/)
    await expect(cache.set('k', undefined as never)).rejects.toThrow(ValidationError)
    await expect(cache.set('k', 1, { ttl: 'soon' as never })).rejects.toThrow(/"ttl" is not a valid duration/)
    await expect(cache.set('k', 1, { ttl: -5 })).rejects.toThrow(/"ttl" must be a finite, non-negative/)
    expect(() => stack([], {})).toThrow(/"layers"/)
    expect(() => stack(undefined, { ttl: '3 parsecs' as never })).toThrow(/"ttl"/)
    expect(() => stack(undefined, { grace: 'x' as never })).toThrow(
      expect.objectContaining({ option: 'grace' }),
    )
    expect(() => new MemoryLayer({ maxBytes: '12 bananas' as never })).toThrow(/"maxBytes"/)
    expect(() => stack(undefined, { writePolicy: 'sometimes' as never })).toThrow(/"writePolicy"/)
  })

  it('parses duration and size strings', async () => {
    const clock = manualClock()
    const cache = stack(undefined, { clock })
    await cache.set('k', 1, { ttl: '2.5h' })
    expect(await cache.ttl('k')).toBe(2.5 * 3_600_000)
  })

  it('expires entries on the injected clock', async () => {
    const clock = manualClock()
    const cache = stack(undefined, { clock, ttl: '10s' })
    await cache.set('k', 'v')
    clock.advance(9_999)
    expect(await cache.get('k')).toBe('v')
    expect(await cache.ttl('k')).toBe(1)
    clock.advance(1)
    expect(await cache.get('k')).toBeUndefined()
    expect(await cache.has('k')).toBe(false)
    expect(await cache.ttl('k')).toBeUndefined()
  })

  it('keeps setForever entries past any ttl and reports an infinite ttl', async () => {
    const clock = manualClock()
    const cache = stack(undefined, { clock, ttl: '1s' })
    await cache.setForever('k', 'v')
    await cache.getOrSetForever('g', () => 'computed')
    clock.advance(10 * 365 * 86_400_000)
    expect(await cache.get('k')).toBe('v')
    expect(await cache.get('g')).toBe('computed')
    expect(await cache.ttl('k')).toBe(Number.POSITIVE_INFINITY)
  })

  it('hands out values that cannot be mutated, and does not keep a reference to what was written', async () => {
    const cache = stack()
    const original = { list: [1, 2], nested: { a: 1 } }
    await cache.set('k', original)
    original.nested.a = 99
    const read = (await cache.get<typeof original>('k'))!
    expect(read.nested.a).toBe(1)
    expect(() => {
      read.list.push(3)
    }).toThrow(TypeError)
    expect((await cache.get<typeof original>('k'))!.list).toEqual([1, 2])
  })
})

describe('read-through and stampede protection', () => {
  it('runs the fetcher once for 1,000 concurrent cold reads', async () => {
    const cache = stack()
    let calls = 0
    const fetcher = async () => {
      calls++
      await new Promise((resolve) => setTimeout(resolve, 10))
      return { id: 7 }
    }
    const results = await Promise.all(Array.from({ length: 1000 }, () => cache.get('cold', fetcher)))
    expect(calls).toBe(1)
    expect(results.every((value) => (value as { id: number }).id === 7)).toBe(true)
    expect(await cache.get('cold', fetcher)).toEqual({ id: 7 })
    expect(calls).toBe(1)
  })

  it('rejects every waiter with the same FactoryError and releases the key', async () => {
    const cache = stack()
    let calls = 0
    const boom = new Error('database down')
    const failing = async () => {
      calls++
      await new Promise((resolve) => setTimeout(resolve, 5))
      throw boom
    }
    const settled = await Promise.allSettled(Array.from({ length: 1000 }, () => cache.get('k', failing)))
    expect(calls).toBe(1)
    const reasons = new Set(settled.map((result) => (result as PromiseRejectedResult).reason))
    expect(reasons.size).toBe(1)
    const [reason] = [...reasons]
    expect(reason).toBeInstanceOf(FactoryError)
    expect((reason as FactoryError).cause).toBe(boom)
    expect((reason as FactoryError).key).toBe('k')
    expect(await cache.get('k', () => 'recovered')).toBe('recovered')
    expect(calls).toBe(1)
  })

  it('tells a factory whether it runs as a background refresh', async () => {
    const clock = manualClock()
    const cache = stack(undefined, { clock, ttl: '1s', staleWhileRevalidate: '1m' })
    const runs: boolean[] = []
    const factory = (ctx: { isBackground: boolean }) => {
      runs.push(ctx.isBackground)
      return runs.length
    }
    expect(await cache.getOrSet('k', factory)).toBe(1)
    clock.advance(2_000)
    expect(await cache.getOrSet('k', factory)).toBe(1)
    await vi.waitFor(() => expect(runs).toEqual([false, true]))
    expect(await cache.get('k')).toBe(2)
  })

  it('treats undefined from a factory as not found and does not cache it', async () => {
    const cache = stack()
    let calls = 0
    const fetcher = () => {
      calls++
      return undefined
    }
    expect(await cache.get('k', fetcher)).toBeUndefined()
    expect(await cache.get('k', fetcher)).toBeUndefined()
    expect(calls).toBe(2)
  })

  it('accepts every call form: positional, object and getOrThrow', async () => {
    const cache = stack()
    expect(await cache.getOrSet('a', () => 1)).toBe(1)
    expect(await cache.getOrSet({ key: 'b', factory: () => 2, ttl: '1m' })).toBe(2)
    expect(await cache.get({ key: 'missing', defaultValue: 'fallback' })).toBe('fallback')
    await cache.set({ key: 'c', value: 3, tags: ['t'] })
    expect(await cache.get({ key: 'c' })).toBe(3)
    await expect(cache.getOrThrow('nope')).rejects.toBeInstanceOf(CacheMissError)
    await expect(cache.getOrThrow('nope')).rejects.toMatchObject({ key: 'nope', code: 'E_CACHE_MISS' })
    expect(await cache.getOrThrow('a')).toBe(1)
    await expect(cache.getOrSet('x', 'not a function' as never)).rejects.toThrow(/"factory"/)
    await cache.deleteByTag({ tags: ['t'] })
    expect(await cache.get('c')).toBeUndefined()
    await cache.deleteMany({ keys: ['a', 'b'] })
    expect(await cache.getMany(['a', 'b'])).toEqual([undefined, undefined])
  })

  it('mget/getMany answer in order with duplicates and run fetchers for misses only', async () => {
    const cache = stack()
    await cache.mset([
      { key: 'a', value: 1 },
      { key: 'b', value: 2, tags: ['t'] },
    ])
    expect(await cache.getMany(['b', 'a', 'zz', 'a'])).toEqual([2, 1, undefined, 1])
    const fetch = vi.fn(() => 3)
    expect(await cache.mget([{ key: 'a' }, { key: 'c', fetch }, { key: 'c', fetch }])).toEqual([1, 3, 3])
    expect(fetch).toHaveBeenCalledTimes(1)
  })

  it('mget reports its hits like get does', async () => {
    const cache = stack()
    await cache.set('a', 1)
    const hits: string[] = []
    cache.on('hit', ({ key, layer }) => hits.push(`${key}@${layer}`))
    await cache.getMany(['a', 'b'])
    expect(hits).toEqual(['a@memory'])
    expect(cache.getStats()).toMatchObject({ hits: 1, misses: 1 })
  })
})

describe('deletes and inspection', () => {
  it('pull reads and deletes; delete reports whether something was there', async () => {
    const cache = stack()
    await cache.set('k', 'v')
    expect(await cache.pull('k')).toBe('v')
    expect(await cache.get('k')).toBeUndefined()
    expect(await cache.delete('k')).toBe(false)
    await cache.set('k', 'v')
    expect(await cache.delete('k')).toBe(true)
  })

  it('expire turns an entry stale: served within grace, missing for fresh reads', async () => {
    const clock = manualClock()
    const cache = stack(undefined, { clock, ttl: '1m', grace: '10m' })
    await cache.set('k', 'v')
    await cache.expire('k')
    expect(await cache.has('k')).toBe(false)
    expect(await cache.get('k')).toBe('v')
    expect(await cache.get('k', () => 'fresh')).toBe('fresh')
  })

  it('inspect describes the entry', async () => {
    const clock = manualClock()
    const cache = stack(undefined, { clock })
    await cache.set('k', 'v', { ttl: '10s', grace: '1m', tags: ['a', 'b'] })
    clock.advance(4_000)
    expect(await cache.inspect('k')).toEqual({
      key: 'k',
      foundInLayers: ['memory'],
      freshTtl: 6_000,
      staleTtl: 66_000,
      isStale: false,
      tags: ['a', 'b'],
      createdAt: 1_700_000_000_000,
    })
    clock.advance(7_000)
    expect(await cache.inspect('k')).toMatchObject({ freshTtl: 0, isStale: true, staleTtl: 59_000 })
    expect(await cache.inspect('nothing')).toBeUndefined()
  })
})

describe('tags', () => {
  it('invalidates entries carrying any of the tags, hard even within grace', async () => {
    const cache = stack(undefined, { grace: '1h' })
    await cache.set('a', 1, { tags: ['x'] })
    await cache.set('b', 2, { tags: ['y'] })
    await cache.set('c', 3, { tags: ['x', 'y'] })
    await cache.set('d', 4)
    await cache.invalidateByTags(['x'])
    expect(await cache.getMany(['a', 'b', 'c', 'd'])).toEqual([undefined, 2, undefined, 4])
    expect(await cache.get('a', () => 'refetched')).toBe('refetched')
  })

  it('a tagged entry read before an invalidation misses after it (the per-entry check memo is dropped)', async () => {
    const clock = manualClock()
    const cache = stack(undefined, { clock, grace: '1m' })
    await cache.set('k', 'v', { tags: ['a', 'b'] })
    await cache.invalidateByTag('unrelated')
    expect(await cache.get('k')).toBe('v')
    expect(await cache.get('k')).toBe('v')
    await cache.expireByTag('b')
    expect(await cache.has('k')).toBe(false)
    expect(await cache.get('k')).toBe('v')
    await cache.invalidateByTags(['a', 'b'], 'all')
    expect(await cache.get('k')).toBeUndefined()
  })

  it("'all' mode only touches entries that carry every tag", async () => {
    const cache = stack()
    await cache.set('a', 1, { tags: ['x'] })
    await cache.set('b', 2, { tags: ['x', 'y'] })
    await cache.set('c', 3, { tags: ['y', 'x', 'z'] })
    await cache.invalidateByTags(['x', 'y'], 'all')
    expect(await cache.getMany(['a', 'b', 'c'])).toEqual([1, undefined, undefined])
  })

  it('a write after an invalidation in the same millisecond survives it', async () => {
    const clock = manualClock()
    const cache = stack(undefined, { clock })
    await cache.set('k', 'old', { tags: ['t'] })
    await cache.invalidateByTag('t')
    await cache.set('k', 'new', { tags: ['t'] })
    expect(await cache.get('k')).toBe('new')
  })

  it('expireByTag is soft: stale values are served within grace', async () => {
    const clock = manualClock()
    const cache = stack(undefined, { clock, grace: '1m' })
    await cache.set('k', 'v', { tags: ['t'] })
    await cache.expireByTag('t')
    expect(await cache.has('k')).toBe(false)
    expect(await cache.get('k')).toBe('v')
    expect(await cache.get('k', () => 'fresh')).toBe('fresh')
  })

  it('a tag invalidated on a namespace touches that namespace only; on the root it touches all', async () => {
    const cache = stack()
    const users = cache.namespace('users')
    const admins = users.namespace('admins')
    const posts = cache.namespace('posts')
    await users.set('1', 'u', { tags: ['t'] })
    await admins.set('1', 'a', { tags: ['t'] })
    await posts.set('1', 'p', { tags: ['t'] })
    await cache.set('1', 'r', { tags: ['t'] })
    await users.invalidateByTag('t')
    expect([await users.get('1'), await admins.get('1'), await posts.get('1'), await cache.get('1')]).toEqual(
      [undefined, undefined, 'p', 'r'],
    )
    await cache.invalidateByTag('t')
    expect([await posts.get('1'), await cache.get('1')]).toEqual([undefined, undefined])
  })

  it('a result computed while its tag was invalidated is not written back', async () => {
    const cache = stack()
    let release!: () => void
    const pending = cache.get(
      'k',
      () => new Promise<string>((resolve) => (release = () => resolve('late'))),
      {
        tags: ['t'],
      },
    )
    await new Promise((resolve) => setImmediate(resolve))
    await cache.invalidateByTag('t')
    release()
    expect(await pending).toBe('late')
    expect(await cache.get('k')).toBeUndefined()
  })
})

describe('namespaces, prefixes, patterns and generations', () => {
  it('nests keys and clears only its own namespace', async () => {
    const cache = stack()
    const a = cache.namespace('a')
    const ab = a.namespace('b')
    await ab.set('k', 1)
    await a.set('k', 2)
    await cache.set('k', 3)
    expect(ab.prefix).toBe('a:b:')
    expect(await cache.get('a:b:k')).toBe(1)
    await ab.clear()
    expect([await ab.get('k'), await a.get('k'), await cache.get('k')]).toEqual([undefined, 2, 3])
    await a.clear()
    expect([await a.get('k'), await cache.get('k')]).toEqual([undefined, 3])
  })

  it('handles for the same namespace share stampede locks', async () => {
    const cache = stack()
    let calls = 0
    const slow = async () => {
      calls++
      await new Promise((resolve) => setTimeout(resolve, 5))
      return 'v'
    }
    await Promise.all([cache.namespace('n').get('k', slow), cache.namespace('n').get('k', slow)])
    expect(calls).toBe(1)
  })

  it('invalidates by prefix and by glob pattern', async () => {
    const cache = stack()
    await cache.mset([
      { key: 'user:1', value: 1 },
      { key: 'user:2', value: 2 },
      { key: 'users', value: 3 },
      { key: 'post:1', value: 4 },
      { key: 'post:12', value: 5 },
    ])
    await cache.invalidateByPrefix('user:')
    expect(await cache.getMany(['user:1', 'user:2', 'users'])).toEqual([undefined, undefined, 3])
    await cache.invalidateByPattern('post:?')
    expect(await cache.getMany(['post:1', 'post:12'])).toEqual([undefined, 5])
  })

  it('bumpGeneration makes every older key unreachable at once', async () => {
    const cache = stack(undefined, { generation: 1 })
    await cache.set('k', 'v1')
    expect(await cache.bumpGeneration()).toBe(2)
    expect(cache.getGeneration()).toBe(2)
    expect(await cache.get('k')).toBeUndefined()
    await cache.set('k', 'v2')
    expect(await cache.get('k')).toBe('v2')
    await expect(stack().bumpGeneration()).rejects.toThrow(/generation/)
  })
})

describe('wrap', () => {
  it('caches by canonical arguments', async () => {
    const cache = stack()
    const calls: unknown[] = []
    const find = cache.wrap('find', async (query: unknown) => {
      calls.push(query)
      return calls.length
    })
    expect(await find({ a: 1, b: 2 })).toBe(1)
    expect(await find({ b: 2, a: 1 })).toBe(1)
    expect(await find(1)).toBe(2)
    expect(await find('1')).toBe(3)
    expect(await find({ long: 'x'.repeat(500) })).toBe(4)
    expect(await find({ long: 'x'.repeat(500) })).toBe(4)
    expect(calls).toHaveLength(4)
  })
})

describe('events, stats and tracing', () => {
  it('emits typed events with full keys', async () => {
    const cache = stack()
    const seen: string[] = []
    cache.on('hit', ({ key, layer, stale }) => seen.push(`hit ${key} ${layer} ${stale}`))
    cache.on('miss', ({ key }) => seen.push(`miss ${key}`))
    cache.on('set', ({ key }) => seen.push(`set ${key}`))
    cache.on('delete', ({ key }) => seen.push(`delete ${key}`))
    cache.on('clear', ({ namespace }) => seen.push(`clear '${namespace}'`))
    cache.on('invalidate', ({ tags }) => seen.push(`invalidate ${tags?.join()}`))
    const ns = cache.namespace('n')
    await ns.set('k', 1)
    await ns.get('k')
    await ns.get('x')
    await ns.deleteMany(['k', 'j'])
    await cache.invalidateByTag('t')
    await cache.clear()
    expect(seen).toEqual([
      'set n:k',
      'hit n:k memory false',
      'miss n:x',
      'delete n:k',
      'delete n:j',
      'invalidate t',
      "clear ''",
    ])
  })

  it('counts hits, misses and per-layer latency percentiles', async () => {
    const cache = stack()
    await cache.set('k', 1)
    for (let i = 0; i < 64; i++) await cache.get('k')
    await cache.get('nothing')
    const stats = cache.getStats()
    expect(stats).toMatchObject({ hits: 64, misses: 1, sets: 1, refreshesInFlight: 0 })
    expect(stats.hitRate).toBeCloseTo(64 / 65)
    expect(stats.layers[0]).toMatchObject({ name: 'memory', degraded: false })
    expect(stats.layers[0]!.p99).toBeGreaterThanOrEqual(stats.layers[0]!.p50)
    cache.resetMetrics()
    expect(cache.getHitRate()).toBe(0)
    expect(await cache.healthCheck()).toEqual([
      { layer: 'memory', healthy: true, latency: expect.any(Number) },
    ])
  })

  it('publishes operations on the cachestack:operation tracing channel', async () => {
    const cache = stack()
    const events: { operation: string; key?: string; hit?: boolean }[] = []
    const handlers = {
      start() {},
      // An in-memory hit is synchronous (traceSync): it ends on `end`, with `result` set.
      end(message: object) {
        if (!('result' in message)) return
        const context = message as unknown as { operation: string; key?: string; hit?: boolean }
        events.push({ operation: context.operation, key: context.key, hit: context.hit })
      },
      asyncStart() {},
      asyncEnd(message: object) {
        const context = message as { operation: string; key?: string; hit?: boolean }
        events.push({ operation: context.operation, key: context.key, hit: context.hit })
      },
      error() {},
    }
    const channel = tracingChannel(OPERATION_CHANNEL)
    channel.subscribe(handlers)
    try {
      await cache.set('k', 1)
      await cache.get('k')
      await cache.get('other')
    } finally {
      channel.unsubscribe(handlers)
    }
    expect(events).toEqual([
      { operation: 'set', key: 'k', hit: undefined },
      { operation: 'get', key: 'k', hit: true },
      { operation: 'get', key: 'other', hit: false },
    ])
  })

  it('rejects every call after disconnect with DisconnectedError', async () => {
    const cache = new CacheStack()
    await cache.set('k', 1)
    await cache.disconnect()
    await expect(cache.get('k')).rejects.toBeInstanceOf(DisconnectedError)
    await expect(cache.set('k', 2)).rejects.toBeInstanceOf(DisconnectedError)
    // Every method that answers a promise rejects; none throws (issue 10: has, ttl, inspect did not check).
    const calls: [string, () => Promise<unknown>][] = [
      ['has', () => cache.has('k')],
      ['missing', () => cache.missing('k')],
      ['ttl', () => cache.ttl('k')],
      ['inspect', () => cache.inspect('k')],
      ['mget', () => cache.mget(['k'])],
      ['getMany', () => cache.getMany(['k'])],
      ['getOrSet', () => cache.getOrSet('k', () => 1)],
      ['getOrThrow', () => cache.getOrThrow('k')],
      ['pull', () => cache.pull('k')],
      ['mset', () => cache.mset([{ key: 'k', value: 1 }])],
      ['setForever', () => cache.setForever('k', 1)],
      ['delete', () => cache.delete('k')],
      ['deleteMany', () => cache.deleteMany(['k'])],
      ['expire', () => cache.expire('k')],
      ['clear', () => cache.clear()],
      ['invalidateByTags', () => cache.invalidateByTags(['t'])],
      ['expireByTag', () => cache.expireByTag('t')],
      ['invalidateByPrefix', () => cache.invalidateByPrefix('p')],
      ['invalidateByPattern', () => cache.invalidateByPattern('p*')],
    ]
    for (const [name, call] of calls) {
      let promise: Promise<unknown> | undefined
      expect(() => {
        promise = call()
      }, name).not.toThrow()
      await expect(promise, name).rejects.toBeInstanceOf(DisconnectedError)
    }
  })

  it('bad input rejects, it never throws synchronously', async () => {
    const cache = stack()
    const calls: [string, () => Promise<unknown>][] = [
      ['deleteMany', () => cache.deleteMany(42 as never)],
      ['getMany', () => cache.getMany(42 as never)],
      ['mget', () => cache.mget(42 as never)],
      ['mset', () => cache.mset(42 as never)],
      ['invalidateByTags (tags)', () => cache.invalidateByTags(42 as never)],
      ['invalidateByTags (mode)', () => cache.invalidateByTags(['t'], 'some' as never)],
      ['expireByTags', () => cache.expireByTags([''])],
      ['has', () => cache.has('')],
      ['ttl', () => cache.ttl(42 as never)],
      ['inspect', () => cache.inspect('')],
      ['delete', () => cache.delete('')],
      ['invalidateByPrefix', () => cache.invalidateByPrefix('')],
      ['getOrSet', () => cache.getOrSet('k', 'nope' as never)],
      ['set', () => cache.set('k', 1, 'soon' as never)],
    ]
    for (const [name, call] of calls) {
      let promise: Promise<unknown> | undefined
      expect(() => {
        promise = call()
      }, name).not.toThrow()
      await expect(promise, name).rejects.toBeInstanceOf(ValidationError)
    }
  })
})

describe('CacheManager', () => {
  it('holds named stores and exposes the default one', async () => {
    const manager = createCacheManager({ default: 'main', stores: { main: stack(), sessions: stack() } })
    await manager.set('k', 'main value')
    await manager.use('sessions').set('k', 'session value')
    expect(await manager.get('k')).toBe('main value')
    expect(await manager.use().get('k')).toBe('main value')
    expect(await manager.use('sessions').get('k')).toBe('session value')
    expect(manager.storeNames).toEqual(['main', 'sessions'])
    expect(() => manager.use('nope' as never)).toThrow(ValidationError)
    expect(() => createCacheManager({ default: 'x' as never, stores: { main: stack() } })).toThrow(
      /"default"/,
    )
  })
})

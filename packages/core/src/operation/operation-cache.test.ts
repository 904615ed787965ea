import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CacheStack, type CacheStackOptions, OPERATION_CHANNEL } from '../cache-stack.ts'
import { ValidationError } from '../errors.ts'
import { createManualClock } from '../testing/index.ts'
import { OperationCache, type OperationCacheOptions } from './operation-cache.ts'

let clock: ReturnType<typeof createManualClock>
const stacks: CacheStack[] = []
function stack(options: CacheStackOptions = {}): CacheStack {
  const cache = new CacheStack(undefined, { clock, ...options })
  stacks.push(cache)
  return cache
}
async function advance(ms: number): Promise<void> {
  clock.advance(ms)
  await vi.advanceTimersByTimeAsync(ms)
}
type Call = [id: number]
function operation(
  cache: CacheStack,
  options: Partial<OperationCacheOptions<Call, { user?: string }, string>> = {},
) {
  return new OperationCache<Call, { user?: string }, string>({ cache, name: 'user.byId', ...options })
}

beforeEach(() => {
  clock = createManualClock(1_700_000_000_000)
  vi.useFakeTimers()
})
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((cache) => cache.disconnect()))
  vi.useRealTimers()
})

describe('OperationCache.query', () => {
  it('reports miss, then hit, then stale within staleWhileRevalidate, then the refreshed hit', async () => {
    const op = operation(stack(), { ttl: '10s', staleWhileRevalidate: '1m' })
    let version = 0
    const run = vi.fn(async () => `v${++version}`)
    expect(await op.query([1], {}, run)).toEqual({ value: 'v1', state: 'miss', key: 'user.byId:[n:1]' })
    expect(await op.query([1], {}, run)).toMatchObject({ value: 'v1', state: 'hit' })
    await advance(11_000)
    expect(await op.query([1], {}, run)).toMatchObject({ value: 'v1', state: 'stale' })
    await vi.advanceTimersByTimeAsync(0)
    expect(await op.query([1], {}, run)).toMatchObject({ value: 'v2', state: 'hit' })
    expect(run).toHaveBeenCalledTimes(2)
  })

  it('reports stale when its own run fails and grace serves the old value', async () => {
    const op = operation(stack(), { ttl: '10s', grace: '1m' })
    await op.query([1], {}, async () => 'v1')
    await advance(11_000)
    const failing = await op.query([1], {}, async () => {
      throw new Error('upstream down')
    })
    expect(failing).toMatchObject({ value: 'v1', state: 'stale' })
  })

  it('keeps the serve state right while a tracing subscriber is attached', async () => {
    const onStart = () => {}
    subscribe(`tracing:${OPERATION_CHANNEL}:start`, onStart)
    try {
      const op = operation(stack(), { ttl: '10s', staleWhileRevalidate: '1m' })
      await op.query([1], {}, async () => 'v1')
      expect((await op.query([1], {}, async () => 'v2')).state).toBe('hit')
      await advance(11_000)
      expect((await op.query([1], {}, async () => 'v2')).state).toBe('stale')
    } finally {
      unsubscribe(`tracing:${OPERATION_CHANNEL}:start`, onStart)
    }
  })

  it('coalesces concurrent misses: 1,000 callers, one run', async () => {
    const op = operation(stack())
    let release!: (value: string) => void
    const run = vi.fn(() => new Promise<string>((resolve) => (release = resolve)))
    const calls = Array.from({ length: 1000 }, () => op.query([7], {}, run))
    await vi.advanceTimersByTimeAsync(0)
    release('shared')
    const results = await Promise.all(calls)
    expect(run).toHaveBeenCalledTimes(1)
    expect(results.every((r) => r.value === 'shared')).toBe(true)
    expect(results.filter((r) => r.state === 'miss')).toHaveLength(1)
  })

  it('answers with what the operation threw, not the stack wrapper, when nothing stale is at hand', async () => {
    const op = operation(stack())
    const own = new RangeError('not found')
    await expect(
      op.query([1], {}, async () => {
        throw own
      }),
    ).rejects.toBe(own)
  })

  it('stores tags computed from the result; invalidating one tag misses the next call', async () => {
    const cache = stack()
    const op = operation(cache, { tags: (result, [id]) => [`user:${id}`, `name:${result}`] })
    let n = 0
    const run = async () => `alice${++n}`
    await op.query([1], {}, run)
    expect((await op.query([1], {}, run)).state).toBe('hit')
    await cache.invalidateByTag('name:alice1')
    expect(await op.query([1], {}, run)).toMatchObject({ value: 'alice2', state: 'miss' })
    await cache.invalidateByTag('user:1')
    expect((await op.query([1], {}, run)).state).toBe('miss')
  })

  it("keys private results by a hash of the session and never serves one user another user's result", async () => {
    const op = operation(stack(), { scope: 'private', session: (ctx) => ctx.user })
    const run = (who: string) => async () => `profile of ${who}`
    expect((await op.query([1], { user: 'alice' }, run('alice'))).state).toBe('miss')
    const bob = await op.query([1], { user: 'bob' }, run('bob'))
    expect(bob).toMatchObject({ value: 'profile of bob', state: 'miss' })
    expect(bob.key).not.toContain('bob')
    expect(await op.query([1], { user: 'alice' }, run('x'))).toMatchObject({
      value: 'profile of alice',
      state: 'hit',
    })
  })

  it('runs uncached without a session (private) or when bypass says so', async () => {
    const cache = stack()
    const priv = operation(cache, { scope: 'private', session: (ctx) => ctx.user })
    expect(await priv.query([1], {}, async () => 'anon')).toEqual({
      value: 'anon',
      state: 'bypass',
      key: undefined,
      reason: 'no-session',
    })
    expect(await priv.keyOf([1], {})).toBeUndefined()
    const skip = operation(cache, { bypass: ([id]) => id === 0 })
    expect((await skip.query([0], {}, async () => 'a')).reason).toBe('bypass')
    expect((await skip.query([0], {}, async () => 'b')).value).toBe('b')
    expect(await skip.keyOf([1], {})).toBe('user.byId:[n:1]')
  })

  it('works on a namespace view', async () => {
    const cache = stack()
    const op = new OperationCache({ cache: cache.namespace('api'), name: 'list' })
    await op.query([], undefined, async () => [1, 2])
    expect(await cache.get('api:list:[]')).toEqual([1, 2])
  })
})

describe('OperationCache.mutate', () => {
  it('invalidates after success, before resolving, with tags from the result', async () => {
    const cache = stack()
    const read = operation(cache, { tags: (_r, [id]) => [`user:${id}`] })
    const write = new OperationCache<Call, unknown, { id: number }>({
      cache,
      name: 'user.update',
      invalidates: (result) => [`user:${result.id}`],
    })
    await read.query([1], {}, async () => 'old')
    expect(await write.mutate([1], {}, async () => ({ id: 1 }))).toEqual({ id: 1 })
    expect(await read.query([1], {}, async () => 'new')).toMatchObject({ value: 'new', state: 'miss' })
  })

  it('invalidates nothing when the mutation fails', async () => {
    const cache = stack()
    const read = operation(cache, { tags: ['users'] })
    const write = operation(cache, { name: 'user.update', invalidates: ['users'] })
    await read.query([1], {}, async () => 'old')
    await expect(write.mutate([1], {}, () => Promise.reject(new Error('conflict')))).rejects.toThrow(
      'conflict',
    )
    expect((await read.query([1], {}, async () => 'new')).state).toBe('hit')
  })

  it('turns a failed invalidation into a warning: the mutation succeeded', async () => {
    const warnings: string[] = []
    const onWarning = (warning: Error) => warnings.push(warning.message)
    process.on('warning', onWarning)
    try {
      const cache = stack()
      const write = operation(cache, { invalidates: ['users'] })
      await cache.disconnect()
      expect(await write.mutate([1], {}, async () => 'done')).toBe('done')
      await new Promise((resolve) => process.nextTick(resolve))
      expect(warnings.some((w) => w.includes('invalidating users failed'))).toBe(true)
    } finally {
      process.off('warning', onWarning)
    }
  })
})

describe('OperationCache options', () => {
  it('fails fast with a ValidationError naming the option', () => {
    const cache = stack()
    const bad: [Record<string, unknown>, string][] = [
      [{ cache: {}, name: 'x' }, 'cache'],
      [{ cache, name: '' }, 'name'],
      [{ cache, name: 'x', scope: 'shared' }, 'scope'],
      [{ cache, name: 'x', scope: 'private' }, 'session'],
      [{ cache, name: 'x', session: 'alice' }, 'session'],
      [{ cache, name: 'x', tags: [1] }, 'tags'],
      [{ cache, name: 'x', invalidates: 'users' }, 'invalidates'],
      [{ cache, name: 'x', bypass: true }, 'bypass'],
      [{ cache, name: 'x', ttll: '1m' }, 'ttll'],
    ]
    for (const [options, name] of bad) {
      expect(() => new OperationCache(options as never), name).toThrow(
        expect.objectContaining({ constructor: ValidationError, option: name }),
      )
    }
  })
})

describe('OperationCache key option', () => {
  it('stores a call under the key function’s whole key, a private one with the session hash appended', async () => {
    const cache = stack()
    const shared = operation(cache, { key: ([id]) => `user/${id}` })
    expect(await shared.keyOf([7], {})).toBe('user/7')
    await shared.query([7], {}, () => 'seven')
    expect(await cache.get('user/7')).toBe('seven')
    expect((await shared.query([7], {}, () => 'other')).state).toBe('hit')
    const own = operation(cache, {
      key: ([id]) => `user/${id}`,
      scope: 'private',
      session: (ctx) => ctx.user,
    })
    const key = await own.keyOf([7], { user: 'ann' })
    expect(key).toMatch(/^user\/7 session=[\w-]{22}$/)
    expect(key).not.toContain('ann')
  })

  it('refuses a key that is not a function', () => {
    expect(() => operation(stack(), { key: 'user' as never })).toThrow(ValidationError)
  })
})

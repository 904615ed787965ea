import { AsyncLocalStorage } from 'node:async_hooks'
import { tracingChannel } from 'node:diagnostics_channel'
import { afterEach, describe, expect, it } from 'vitest'
import { CacheStack, type CacheStackOptions } from '../cache-stack.ts'
import { ValidationError } from '../errors.ts'
import { createManualClock } from '../testing/index.ts'
import { OPERATION_CHANNEL, type OperationContext } from './tracing.ts'

const channel = tracingChannel<unknown, OperationContext>(OPERATION_CHANNEL)
const stacks: CacheStack[] = []
function stack(options: CacheStackOptions = {}): CacheStack {
  const cache = new CacheStack(undefined, options)
  stacks.push(cache)
  return cache
}

type Handlers = Parameters<typeof channel.subscribe>[0]
const noop = () => {}
const handlersOf = (some: Partial<Handlers>): Handlers => ({
  start: noop,
  end: noop,
  asyncStart: noop,
  asyncEnd: noop,
  error: noop,
  ...some,
})

/** Records every finished operation (asyncEnd) as Node's tracingChannel delivers it. */
function record() {
  const ended: OperationContext[] = []
  const started: OperationContext[] = []
  const handlers = handlersOf({
    start: (message: OperationContext) => void started.push(message),
    asyncEnd: (message: OperationContext) => void ended.push(message),
    // A synchronous operation (an in-memory hit, traceSync) ends on `end`, with `result` set.
    end: (message: OperationContext) => {
      if ('result' in message) ended.push(message)
    },
  })
  channel.subscribe(handlers)
  const stop = () => channel.unsubscribe(handlers)
  cleanups.push(stop)
  return { ended, started, stop }
}
const cleanups: (() => void)[] = []

afterEach(async () => {
  for (const stop of cleanups.splice(0)) stop()
  await Promise.all(stacks.splice(0).map((cache) => cache.disconnect()))
})

const pick = (m: OperationContext) =>
  Object.fromEntries(
    Object.entries({
      operation: m.operation,
      key: m.key,
      keys: m.keys,
      namespace: m.namespace,
      tags: m.tags,
      hit: m.hit,
      stale: m.stale,
      layer: m.layer,
      hits: m.hits,
      prefix: m.prefix,
      pattern: m.pattern,
      mode: m.mode,
    }).filter(([, value]) => value !== undefined),
  )

describe('cachestack:operation', () => {
  it('publishes every public operation with the key the caller sees (namespace, no generation)', async () => {
    const root = stack({ generation: 3 })
    const users = root.namespace('users')
    await users.set('1', 'a', { tags: ['t'] })
    const { ended } = record()
    await users.set({ key: '2', value: 'b', tags: ['t', 'u'] })
    await users.get('1')
    await users.get('nope')
    expect(await users.has('1')).toBe(true)
    expect(await users.missing('nope')).toBe(true)
    expect(await users.ttl('1')).toBeGreaterThan(0)
    expect(await users.inspect('1')).toMatchObject({ key: 'users:1' })
    expect(await users.mget(['1', 'nope'])).toEqual(['a', undefined])
    expect(await users.getMany(['2'])).toEqual(['b'])
    await users.mset([{ key: '3', value: 'c' }])
    await users.expire('3')
    await users.delete('3')
    await users.deleteMany(['2', '9'])
    await users.invalidateByTag('t')
    await users.expireByTags(['u'])
    await users.invalidateByPrefix('x')
    await users.invalidateByPattern('y*')
    await users.clear()
    expect(await root.bumpGeneration()).toBe(4)
    const ns = { namespace: 'users:' }
    const memory = { layer: 'memory' }
    expect(ended.map(pick)).toEqual([
      { operation: 'set', key: 'users:2', tags: ['t', 'u'], ...ns },
      { operation: 'get', key: 'users:1', hit: true, stale: false, ...memory, ...ns },
      { operation: 'get', key: 'users:nope', hit: false, ...ns },
      { operation: 'has', key: 'users:1', hit: true, ...memory, ...ns },
      { operation: 'has', key: 'users:nope', hit: false, ...ns },
      { operation: 'ttl', key: 'users:1', hit: true, ...memory, ...ns },
      { operation: 'inspect', key: 'users:1', hit: true, ...memory, ...ns },
      // The missed key of an mget is read with `get`, which ends first.
      { operation: 'get', key: 'users:nope', hit: false, ...ns },
      { operation: 'mget', keys: ['users:1', 'users:nope'], hits: 1, ...ns },
      { operation: 'mget', keys: ['users:2'], hits: 1, ...ns },
      { operation: 'mset', keys: ['users:3'], ...ns },
      { operation: 'expire', key: 'users:3', ...ns },
      { operation: 'delete', key: 'users:3', ...ns },
      { operation: 'delete', keys: ['users:2', 'users:9'], ...ns },
      { operation: 'invalidate', tags: ['t'], mode: 'hard', ...ns },
      { operation: 'invalidate', tags: ['u'], mode: 'soft', ...ns },
      { operation: 'invalidate', prefix: 'x', mode: 'hard', ...ns },
      { operation: 'invalidate', pattern: 'y*', mode: 'hard', ...ns },
      { operation: 'clear', ...ns },
      { operation: 'bumpGeneration', namespace: '' },
    ])
  })

  it('names the root stack in every message, namespaces included, so subscribers can tell stacks apart', async () => {
    const one = stack()
    const two = stack()
    const { ended } = record()
    await one.namespace('a').namespace('b').set('k', 1)
    await two.get('k')
    expect(ended.map((m) => [m.key, m.cache])).toEqual([
      ['a:b:k', one],
      ['k', two],
    ])
  })

  it('publishes start, asyncEnd and error for a failing operation, with the error', async () => {
    const cache = stack()
    const errors: OperationContext[] = []
    const handlers = handlersOf({ error: (message: OperationContext) => void errors.push(message) })
    channel.subscribe(handlers)
    cleanups.push(() => channel.unsubscribe(handlers))
    const { ended } = record()
    await expect(cache.bumpGeneration()).rejects.toBeInstanceOf(ValidationError)
    await expect(
      cache.getOrSet('k', () => {
        throw new Error('db down')
      }),
    ).rejects.toThrow()
    expect(errors.map((m) => m.operation)).toEqual(['bumpGeneration', 'get'])
    expect(ended.map((m) => m.operation)).toEqual(['bumpGeneration', 'get'])
    expect((ended[1]!.error as Error).cause).toMatchObject({ message: 'db down' })
  })

  it('runs the factory inside the stores bound to start, and marks coalesced waiters', async () => {
    const cache = stack()
    const store = new AsyncLocalStorage<OperationContext>()
    channel.start.bindStore(store, (message) => message)
    cleanups.push(() => channel.start.unbindStore(store))
    const { ended } = record()
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const seen: (OperationContext | undefined)[] = []
    const factory = async () => {
      seen.push(store.getStore())
      await gate
      seen.push(store.getStore())
      return 'v'
    }
    const first = cache.getOrSet('k', factory)
    const second = cache.getOrSet('k', factory)
    release()
    expect(await Promise.all([first, second])).toEqual(['v', 'v'])
    expect(ended.map(pick)).toEqual([
      { operation: 'get', key: 'k', hit: false, namespace: '' },
      { operation: 'get', key: 'k', hit: false, namespace: '' },
    ])
    const [firstRead, secondRead] = [...ended].sort((a) => (a.coalesced ? 1 : -1))
    expect(firstRead!.coalesced).toBeUndefined()
    expect(secondRead!.coalesced).toBe(true)
    // One factory run, in the first read's context before and after its await.
    expect(seen).toEqual([firstRead, firstRead])
  })

  it('publishes a background refresh as its own operation, triggered by the read that served stale', async () => {
    const clock = createManualClock(1_000_000)
    const cache = stack({ clock, ttl: '10s', staleWhileRevalidate: '1m' })
    await cache.getOrSet('k', () => 'old')
    clock.advance(11_000)
    const store = new AsyncLocalStorage<OperationContext>()
    channel.start.bindStore(store, (message) => message)
    cleanups.push(() => channel.start.unbindStore(store))
    const { ended } = record()
    let refreshedIn: OperationContext | undefined
    let done!: () => void
    const refreshed = new Promise<void>((resolve) => {
      done = resolve
    })
    const value = await cache.getOrSet('k', async () => {
      await Promise.resolve()
      refreshedIn = store.getStore()
      done()
      return 'new'
    })
    expect(value).toBe('old')
    await refreshed
    await new Promise((resolve) => setImmediate(resolve))
    const read = ended.find((m) => m.operation === 'get')!
    const refresh = ended.find((m) => m.operation === 'refresh')!
    expect(pick(read)).toEqual({
      operation: 'get',
      key: 'k',
      namespace: '',
      hit: true,
      stale: true,
      layer: 'memory',
    })
    expect(refresh).toMatchObject({ operation: 'refresh', key: 'k', background: true, result: 'new' })
    expect(refresh.trigger).toBe(read)
    expect(refreshedIn).toBe(refresh)
    expect(await cache.get('k')).toBe('new')
  })

  it('marks a stale value served after a failed factory (grace)', async () => {
    const clock = createManualClock(1_000_000)
    const cache = stack({ clock, ttl: '10s', grace: '1h' })
    await cache.set('k', 'old')
    clock.advance(11_000)
    const { ended } = record()
    const value = await cache.getOrSet('k', () => {
      throw new Error('db down')
    })
    expect(value).toBe('old')
    expect(pick(ended[0]!)).toEqual({ operation: 'get', key: 'k', namespace: '', hit: false, stale: true })
  })

  it('publishes a fresh in-memory hit synchronously (start, end), async reads with asyncStart/asyncEnd', async () => {
    const cache = stack()
    await cache.set('k', 'v')
    const events: string[] = []
    const handlers = handlersOf({
      start: (m) => void events.push(`start ${m.operation} hit=${m.hit}`),
      end: (m) => void events.push(`end ${m.operation} result=${'result' in m ? String(m.result) : '-'}`),
      asyncEnd: (m) => void events.push(`asyncEnd ${m.operation} hit=${m.hit}`),
    })
    channel.subscribe(handlers)
    cleanups.push(() => channel.unsubscribe(handlers))
    expect(await cache.get('k')).toBe('v')
    expect(await cache.get('absent')).toBeUndefined()
    expect(events).toEqual([
      'start get hit=true',
      'end get result=v',
      'start get hit=undefined',
      'end get result=-',
      'asyncEnd get hit=false',
    ])
  })

  it('publishes nothing and keeps the fast path when nobody subscribes', async () => {
    const cache = stack()
    await cache.set('k', 1)
    const { ended, stop } = record()
    await cache.get('k')
    stop()
    expect(channel.hasSubscribers).toBe(false)
    await cache.get('k')
    await cache.has('k')
    expect(ended.map((m) => m.operation)).toEqual(['get'])
  })
})

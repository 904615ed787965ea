import { tracingChannel } from 'node:diagnostics_channel'
import { CacheStack, type CacheStackOptions, OPERATION_CHANNEL, ValidationError } from '@cachestack/core'
import { createManualClock } from '@cachestack/core/testing'
import { SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api'
import { AlwaysOffSampler, ParentBasedSampler } from '@opentelemetry/sdk-trace'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { instrumentCache, keyHash } from './index.ts'
import { createTelemetry, parentId, points, useAsyncContext } from './telemetry.fixture.ts'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})
beforeAll(() => useAsyncContext())

function setup(options: CacheStackOptions = {}, instrument: Parameters<typeof instrumentCache>[1] = {}) {
  const telemetry = createTelemetry()
  const cache = new CacheStack(undefined, options)
  const stop = instrumentCache(cache, { tracer: telemetry.tracer, meter: telemetry.meter, ...instrument })
  cleanups.push(
    () => telemetry.shutdown(),
    () => cache.disconnect(),
    stop,
  )
  return { telemetry, cache, stop }
}

/** A factory that queries a "database": its own span, made the usual way (the active context). */
function dbFactory(tracer: Tracer, value: unknown) {
  return () =>
    tracer.startActiveSpan('db.query', async (span) => {
      await new Promise((resolve) => setImmediate(resolve))
      span.end()
      return value
    })
}

describe('instrumentCache spans', () => {
  it('makes a span per operation with hashed keys, hit, layer, tags and namespace', async () => {
    const { telemetry, cache } = setup({ generation: 1 })
    const users = cache.namespace('users')
    await users.set('42', { name: 'Ada' }, { tags: ['team:1', 'org:2'] })
    await users.get('42')
    await users.get('nope')
    await users.has('42')
    await users.delete('42')
    await users.invalidateByTag('team:1')
    await users.expireByTag('org:2')
    await users.clear()
    await cache.bumpGeneration()
    await cache.mget(['a', 'b'])
    const names = telemetry.spans().map((span) => span.name)
    expect(names).toEqual([
      'cache.set',
      'cache.get',
      'cache.get',
      'cache.has',
      'cache.delete',
      'cache.invalidate',
      'cache.invalidate',
      'cache.clear',
      'cache.bump_generation',
      'cache.get',
      'cache.get',
      'cache.mget',
    ])
    const [set, hit, miss, has, del, hard, soft] = telemetry.spans()
    expect(set!.kind).toBe(SpanKind.INTERNAL)
    expect(set!.attributes).toEqual({
      'cache.operation': 'set',
      'cache.name': 'default',
      'cache.namespace': 'users:',
      'cache.key.hash': keyHash('users:42'),
      'cache.tags.count': 2,
    })
    expect(hit!.attributes).toMatchObject({
      'cache.hit': true,
      'cache.stale': false,
      'cache.layer': 'memory',
    })
    expect(miss!.attributes).toMatchObject({ 'cache.hit': false, 'cache.key.hash': keyHash('users:nope') })
    expect(miss!.attributes).not.toHaveProperty('cache.layer')
    expect(has!.attributes).toMatchObject({ 'cache.operation': 'has', 'cache.hit': true })
    expect(del!.attributes).toMatchObject({ 'cache.operation': 'delete' })
    expect(hard!.attributes).toMatchObject({ 'cache.invalidate.mode': 'hard', 'cache.tags.count': 1 })
    expect(soft!.attributes).toMatchObject({ 'cache.invalidate.mode': 'soft' })
    expect(telemetry.span('cache.mget').attributes).toMatchObject({ 'cache.keys.count': 2, 'cache.hits': 0 })
    // No raw key anywhere unless asked for.
    const everything = JSON.stringify(telemetry.spans().map((span) => span.attributes))
    expect(everything).not.toContain('42')
    expect(keyHash('users:42')).toMatch(/^[0-9a-f]{16}$/)
  })

  it('records raw keys only with includeKeys', async () => {
    const { telemetry, cache } = setup({}, { includeKeys: true, name: 'sessions' })
    await cache.set('user:ada@example.com', 1)
    await cache.getMany(['a', 'b'])
    await cache.invalidateByPrefix('user:')
    expect(telemetry.span('cache.set').attributes).toMatchObject({
      'cache.key': 'user:ada@example.com',
      'cache.key.hash': keyHash('user:ada@example.com'),
      'cache.name': 'sessions',
    })
    expect(telemetry.span('cache.mget').attributes).toMatchObject({ 'cache.keys': ['a', 'b'] })
    expect(telemetry.span('cache.invalidate').attributes).toMatchObject({ 'cache.prefix': 'user:' })
  })

  it("parents the factory's spans to the read's span across awaits, and the read to the caller", async () => {
    const { telemetry, cache } = setup()
    const { tracer } = telemetry
    await tracer.startActiveSpan('request', async (request) => {
      expect(await cache.getOrSet('product:1', dbFactory(tracer, 'chair'))).toBe('chair')
      expect(await cache.getOrSet('product:1', dbFactory(tracer, 'other'))).toBe('chair')
      request.end()
    })
    const [miss, hit] = telemetry.spans().filter((span) => span.name === 'cache.get')
    const db = telemetry.span('db.query')
    const request = telemetry.span('request')
    expect(parentId(db)).toBe(miss!.spanContext().spanId)
    expect(parentId(miss!)).toBe(request.spanContext().spanId)
    expect(parentId(hit!)).toBe(request.spanContext().spanId)
    expect(db.spanContext().traceId).toBe(request.spanContext().traceId)
    expect(miss!.attributes['cache.hit']).toBe(false)
    expect(hit!.attributes['cache.hit']).toBe(true)
  })

  it('marks the coalesced waiter; the one factory run is a child of the read that started it', async () => {
    const { telemetry, cache } = setup()
    const factory = dbFactory(telemetry.tracer, 'v')
    await Promise.all([cache.getOrSet('k', factory), cache.getOrSet('k', factory)])
    const reads = telemetry.spans().filter((span) => span.name === 'cache.get')
    const waiter = reads.find((span) => span.attributes['cache.coalesced'] === true)
    const owner = reads.find((span) => span !== waiter)
    expect(waiter).toBeDefined()
    expect(owner!.attributes).not.toHaveProperty('cache.coalesced')
    expect(telemetry.spans().filter((span) => span.name === 'db.query')).toHaveLength(1)
    expect(parentId(telemetry.span('db.query'))).toBe(owner!.spanContext().spanId)
  })

  it('gives a background refresh its own trace, linked to the read that served stale', async () => {
    const clock = createManualClock(1_000_000)
    const { telemetry, cache } = setup({ clock, ttl: '10s', staleWhileRevalidate: '1m' })
    await cache.set('k', 'old')
    clock.advance(11_000)
    let refreshed!: () => void
    const done = new Promise<void>((resolve) => {
      refreshed = resolve
    })
    const value = await cache.getOrSet('k', async () => {
      const fresh = await dbFactory(telemetry.tracer, 'new')()
      setImmediate(refreshed)
      return fresh
    })
    expect(value).toBe('old')
    await done
    await telemetry.provider.forceFlush()
    const read = telemetry.spans().find((span) => span.name === 'cache.get')!
    const refresh = telemetry.span('cache.refresh')
    expect(read.attributes).toMatchObject({ 'cache.hit': true, 'cache.stale': true })
    expect(parentId(refresh)).toBeUndefined()
    expect(refresh.spanContext().traceId).not.toBe(read.spanContext().traceId)
    expect(refresh.links.map((link) => link.context.spanId)).toEqual([read.spanContext().spanId])
    expect(refresh.attributes).toMatchObject({ 'cache.background': true, 'cache.key.hash': keyHash('k') })
    expect(parentId(telemetry.span('db.query'))).toBe(refresh.spanContext().spanId)
    expect(await cache.get('k')).toBe('new')
  })

  it('sets the error status and records the exception, without the key unless includeKeys', async () => {
    for (const includeKeys of [false, true]) {
      const { telemetry, cache } = setup({}, { includeKeys })
      await expect(
        cache.getOrSet('user:ada@example.com', () => {
          throw new Error('db down')
        }),
      ).rejects.toThrow()
      const span = telemetry.span('cache.get')
      expect(span.status.code).toBe(SpanStatusCode.ERROR)
      const event = span.events.find((e) => e.name === 'exception')!
      expect(event.attributes).toMatchObject({ 'exception.type': 'FactoryError' })
      const message = String(event.attributes!['exception.message'])
      expect(message).toContain('db down')
      expect(message.includes('ada@example.com')).toBe(includeKeys)
      expect(String(span.status.message).includes('ada@example.com')).toBe(includeKeys)
    }
  })

  it('ends the span of an operation that fails validation', async () => {
    const { telemetry, cache } = setup()
    await expect(cache.bumpGeneration()).rejects.toBeInstanceOf(ValidationError)
    expect(telemetry.span('cache.bump_generation').status.code).toBe(SpanStatusCode.ERROR)
  })

  it('stops with the returned function: no spans, and no subscriber left on the channel', async () => {
    const { telemetry, cache, stop } = setup()
    await cache.get('a')
    stop()
    stop()
    await cache.get('b')
    expect(telemetry.spans()).toHaveLength(1)
    expect(tracingChannel(OPERATION_CHANNEL).hasSubscribers).toBe(false)
  })

  it('keeps stacks apart: only the instrumented stack makes spans', async () => {
    const { telemetry } = setup()
    const other = new CacheStack()
    cleanups.push(() => other.disconnect())
    await other.getOrSet('k', dbFactory(telemetry.tracer, 1))
    expect(telemetry.spans().map((span) => span.name)).toEqual(['db.query'])
  })
})

describe('instrumentCache metrics', () => {
  it('names the stack by its own name option unless told otherwise', async () => {
    const { telemetry, cache } = setup({ name: 'sessions' })
    await cache.get('k')
    const named = points(await telemetry.collect(), 'cache.operations')
    expect(named).toEqual([
      [{ 'cache.operation': 'get', 'cache.result': 'miss', 'cache.name': 'sessions' }, 1],
    ])
  })

  it('counts operations by operation, result and layer, times them in ms, and gauges the hit ratio', async () => {
    const { telemetry, cache } = setup({}, { name: 'catalog' })
    await cache.set('a', 1)
    await cache.get('a')
    await cache.get('a')
    await cache.get('b')
    await cache
      .getOrSet('c', () => {
        throw new Error('no')
      })
      .catch(() => {})
    const metrics = await telemetry.collect()
    const name = { 'cache.name': 'catalog' }
    expect(points(metrics, 'cache.operations')).toEqual(
      expect.arrayContaining([
        [{ 'cache.operation': 'set', ...name }, 1],
        [{ 'cache.operation': 'get', 'cache.result': 'hit', 'cache.layer': 'memory', ...name }, 2],
        [{ 'cache.operation': 'get', 'cache.result': 'miss', ...name }, 1],
        [{ 'cache.operation': 'get', 'cache.result': 'miss', 'error.type': 'FactoryError', ...name }, 1],
      ]),
    )
    expect(points(metrics, 'cache.operations')).toHaveLength(4)
    const durations = points(metrics, 'cache.operation.duration')
    expect(durations).toHaveLength(4)
    const histogram = durations.find(([attrs]) => attrs['cache.result'] === 'hit')![1] as { count: number }
    expect(histogram.count).toBe(2)
    const descriptor = metrics.scopeMetrics[0]!.metrics.find(
      (m) => m.descriptor.name === 'cache.operation.duration',
    )!
    expect(descriptor.descriptor.unit).toBe('ms')
    expect(points(metrics, 'cache.hit_ratio')).toEqual([[name, 2 / 4]])
  })

  it('makes no span under a parent the sampler dropped, and still counts the operation', async () => {
    const telemetry = createTelemetry(new ParentBasedSampler({ root: new AlwaysOffSampler() }))
    const cache = new CacheStack()
    const stop = instrumentCache(cache, { tracer: telemetry.tracer, meter: telemetry.meter })
    cleanups.push(
      () => telemetry.shutdown(),
      () => cache.disconnect(),
      stop,
    )
    const { tracer } = telemetry
    await tracer.startActiveSpan('unsampled request', async (request) => {
      expect(request.isRecording()).toBe(false)
      await cache.getOrSet('k', dbFactory(tracer, 1))
      await cache.get('k')
      request.end()
    })
    expect(telemetry.spans()).toEqual([])
    const counted = points(await telemetry.collect(), 'cache.operations')
    expect(counted).toEqual(
      expect.arrayContaining([
        [{ 'cache.operation': 'get', 'cache.result': 'miss', 'cache.name': 'default' }, 1],
        [
          {
            'cache.operation': 'get',
            'cache.result': 'hit',
            'cache.layer': 'memory',
            'cache.name': 'default',
          },
          1,
        ],
      ]),
    )
  })

  it('keeps metrics when the tracer samples nothing', async () => {
    const telemetry = createTelemetry(new AlwaysOffSampler())
    const cache = new CacheStack()
    const stop = instrumentCache(cache, { tracer: telemetry.tracer, meter: telemetry.meter })
    cleanups.push(
      () => telemetry.shutdown(),
      () => cache.disconnect(),
      stop,
    )
    await cache.set('a', 1)
    await cache.get('a')
    expect(telemetry.spans()).toEqual([])
    expect(points(await telemetry.collect(), 'cache.hit_ratio')).toEqual([[{ 'cache.name': 'default' }, 1]])
  })
})

describe('instrumentCache options', () => {
  it('refuses unknown options, wrong types, views and a second instrumentation', () => {
    const cache = new CacheStack()
    cleanups.push(() => cache.disconnect())
    const attempt = (options: unknown) => {
      try {
        instrumentCache(cache, options as never)()
        return undefined
      } catch (error) {
        return error as ValidationError
      }
    }
    expect(attempt({ includeKey: true })).toMatchObject({ option: 'includeKey' })
    expect(attempt({ includeKeys: 'yes' })).toMatchObject({ option: 'includeKeys' })
    expect(attempt({ tracer: {} })).toMatchObject({ option: 'tracer' })
    expect(attempt({ meter: 1 })).toMatchObject({ option: 'meter' })
    expect(attempt({ name: '' })).toMatchObject({ option: 'name' })
    expect(attempt(undefined)).toBeUndefined()
    expect(() => instrumentCache(cache.namespace('users'))).toThrow(ValidationError)
    const stop = instrumentCache(cache)
    expect(() => instrumentCache(cache)).toThrow(/already instrumented/)
    stop()
  })
})

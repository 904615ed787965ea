import { tracingChannel } from 'node:diagnostics_channel'
import { CacheStack, MemoryLayer, OPERATION_CHANNEL, ValidationError } from '@cachestack/core'
import { createManualClock } from '@cachestack/core/testing'
import { Counter, type OpenMetricsContentType, Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { prometheusMetrics } from './index.ts'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function stack(...args: ConstructorParameters<typeof CacheStack>): CacheStack {
  const cache = new CacheStack(...args)
  cleanups.push(() => cache.disconnect())
  return cache
}

function measure(...args: Parameters<typeof prometheusMetrics>): () => void {
  const stop = prometheusMetrics(...args)
  cleanups.push(stop)
  return stop
}

/** The value of one sample in the text exposition format, `undefined` when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue
    const open = line.indexOf('{')
    const close = line.lastIndexOf('}')
    const found: Record<string, string> = {}
    if (open !== -1 && open < name.length + 1) {
      for (const match of line.slice(open + 1, close).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
        found[match[1]!] = match[2]!
      }
    }
    if (
      Object.entries(labels).every(([k, v]) => found[k] === v) &&
      Object.keys(found).length === Object.keys(labels).length
    ) {
      return Number(line.slice(line.lastIndexOf(' ') + 1))
    }
  }
  return undefined
}

describe('prometheusMetrics', () => {
  it('exposes hits, misses, stale serves, factory runs, invalidations, L1 size and durations of one stack', async () => {
    const clock = createManualClock(1_700_000_000_000)
    const registry = new Registry()
    const cache = stack([new MemoryLayer({ maxBytes: '1mb' })], {
      name: 'catalog',
      clock,
      ttl: '10s',
      staleWhileRevalidate: '1m',
    })
    measure(cache, { registry })
    await cache.set('a', 'x'.repeat(100))
    for (let i = 0; i < 5; i++) await cache.get('a')
    await cache.get('absent')
    let release!: (value: string) => void
    const gate = new Promise<string>((resolve) => {
      release = resolve
    })
    const waiting = Array.from({ length: 4 }, () => cache.get('b', () => gate))
    release('b')
    await Promise.all(waiting)
    await cache
      .get('c', () => {
        throw new Error('down')
      })
      .catch(() => {})
    clock.advance(11_000)
    await cache.get('a', () => 'fresh') // stale answer, one background refresh
    await new Promise((resolve) => setImmediate(resolve))
    await cache.invalidateByTag('t')
    await cache.expireByTag('t')
    await cache.invalidateByPrefix('p')
    await cache.clear()
    await cache.delete('a')

    const text = await registry.metrics()
    const c = { cache: 'catalog' }
    expect(sample(text, 'cachestack_hits_total', { ...c, layer: 'memory' })).toBe(6)
    expect(sample(text, 'cachestack_stale_hits_total', { ...c, layer: 'memory' })).toBe(1)
    // Every reader of a missing key counts a miss: 'absent', the four waiters on 'b', 'c'.
    expect(sample(text, 'cachestack_misses_total', c)).toBe(6)
    expect(sample(text, 'cachestack_stale_serves_total', { ...c, reason: 'stale-while-revalidate' })).toBe(1)
    expect(sample(text, 'cachestack_factory_runs_total', c)).toBe(3)
    expect(sample(text, 'cachestack_factory_errors_total', c)).toBe(1)
    expect(sample(text, 'cachestack_coalesced_waiters_total', c)).toBe(3)
    expect(sample(text, 'cachestack_background_refreshes_total', c)).toBe(1)
    expect(sample(text, 'cachestack_sets_total', c)).toBe(3)
    expect(sample(text, 'cachestack_deletes_total', c)).toBe(1)
    expect(sample(text, 'cachestack_invalidations_total', { ...c, kind: 'tags', mode: 'hard' })).toBe(1)
    expect(sample(text, 'cachestack_invalidations_total', { ...c, kind: 'tags', mode: 'soft' })).toBe(1)
    expect(sample(text, 'cachestack_invalidations_total', { ...c, kind: 'prefix', mode: 'hard' })).toBe(1)
    expect(sample(text, 'cachestack_invalidations_total', { ...c, kind: 'clear', mode: 'hard' })).toBe(1)
    expect(sample(text, 'cachestack_layer_degraded', { ...c, layer: 'memory' })).toBe(0)
    expect(sample(text, 'cachestack_layer_items', { ...c, layer: 'memory' })).toBe(0) // after clear()
    expect(sample(text, 'cachestack_layer_bytes', { ...c, layer: 'memory' })).toBe(0)
    const hits = { ...c, operation: 'get', result: 'hit', layer: 'memory' }
    expect(sample(text, 'cachestack_operation_duration_seconds_count', hits)).toBe(5)
    expect(sample(text, 'cachestack_operation_duration_seconds_bucket', { ...hits, le: '+Inf' })).toBe(5)
    const misses = { ...c, operation: 'get', result: 'miss' }
    expect(sample(text, 'cachestack_operation_duration_seconds_count', misses)).toBe(5) // 'c' failed: an error
    expect(
      sample(text, 'cachestack_operation_duration_seconds_count', {
        ...c,
        operation: 'get',
        result: 'error',
      }),
    ).toBe(1)
  })

  it('keeps label values bounded: a thousand keys and tags add no series, and no key or tag shows', async () => {
    const registry = new Registry()
    const cache = stack(undefined, { name: 'users' })
    measure(cache, { registry })
    const series = async () =>
      (await registry.metrics()).split('\n').filter((l) => l !== '' && !l.startsWith('#'))
    await cache.set('warm', 1, { tags: ['warm-tag'] })
    await cache.get('warm')
    await cache.get('cold')
    await cache.invalidateByTag('warm-tag')
    const before = (await series()).length
    for (let i = 0; i < 1000; i++) {
      await cache.set(`user:${i}@example.com`, i, { tags: [`tenant-${i}`] })
      await cache.get(`user:${i}@example.com`)
      await cache.get(`nobody:${i}`)
      await cache.invalidateByTag(`tenant-${i}`)
    }
    const after = await series()
    expect(after.length).toBe(before)
    expect(after.join('\n')).not.toMatch(/example\.com|tenant-|nobody/)
  })

  it('tells several stacks apart in one registry, refuses a second stack of the same name, and drops a stack that stops', async () => {
    const registry = new Registry()
    const pages = stack(undefined, { name: 'pages' })
    const sessions = stack(undefined, { name: 'sessions' })
    const stopPages = measure(pages, { registry })
    measure(sessions, { registry })
    expect(() => prometheusMetrics(stack(undefined, { name: 'pages' }), { registry })).toThrow(
      'Another stack named "pages"',
    )
    expect(() => prometheusMetrics(pages, { registry })).toThrow(ValidationError)
    await pages.set('k', 1)
    await pages.get('k')
    await sessions.get('k')
    let text = await registry.metrics()
    expect(sample(text, 'cachestack_hits_total', { cache: 'pages', layer: 'memory' })).toBe(1)
    expect(sample(text, 'cachestack_hits_total', { cache: 'sessions', layer: 'memory' })).toBe(0)
    expect(sample(text, 'cachestack_misses_total', { cache: 'sessions' })).toBe(1)
    stopPages()
    text = await registry.metrics()
    expect(text).not.toContain('cache="pages"')
    expect(text).toContain('cache="sessions"')
  })

  it('never lets a counter go down when the stack resets its own figures', async () => {
    const registry = new Registry()
    const cache = stack()
    measure(cache, { registry })
    await cache.set('k', 1)
    for (let i = 0; i < 3; i++) await cache.get('k')
    expect(
      sample(await registry.metrics(), 'cachestack_hits_total', { cache: 'default', layer: 'memory' }),
    ).toBe(3)
    cache.resetMetrics()
    await cache.get('k')
    expect(
      sample(await registry.metrics(), 'cachestack_hits_total', { cache: 'default', layer: 'memory' }),
    ).toBe(4)
  })

  it('durations: false subscribes to nothing, so the hit path publishes nothing', async () => {
    const registry = new Registry()
    const channel = tracingChannel(OPERATION_CHANNEL)
    const cache = stack()
    const stop = measure(cache, { registry, durations: false, prefix: 'app_cache_' })
    expect(channel.hasSubscribers).toBe(false)
    await cache.get('k')
    const text = await registry.metrics()
    expect(sample(text, 'app_cache_misses_total', { cache: 'default' })).toBe(1)
    expect(text).not.toContain('duration')
    stop()
    expect((await registry.metrics()).trim()).toBe('')
    const timed = measure(stack(undefined, { name: 'timed' }), { registry })
    expect(channel.hasSubscribers).toBe(true)
    timed()
    expect(channel.hasSubscribers).toBe(false)
  })

  it('works with every way a registry is read: OpenMetrics, JSON, merge, reset', async () => {
    const registry = new Registry<OpenMetricsContentType>()
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE)
    const cache = stack(undefined, { name: 'open' })
    measure(cache, { registry })
    await cache.set('k', 1)
    await cache.get('k')
    const text = await registry.metrics()
    expect(text.trimEnd().endsWith('# EOF')).toBe(true)
    expect(text).toMatch(/^cachestack_hits_total\{cache="open",layer="memory"\} 1$/m)
    expect(text).toMatch(/^cachestack_operation_duration_seconds_bucket\{.*le="\+Inf"\} 1$/m)
    const json = await registry.getMetricsAsJSON()
    const histogram = json.find((metric) => metric.name === 'cachestack_operation_duration_seconds')
    expect(histogram?.type).toBe('histogram')
    const other = new Registry<OpenMetricsContentType>()
    other.setContentType(Registry.OPENMETRICS_CONTENT_TYPE)
    const merged = Registry.merge([registry, other] as never[])
    expect(await merged.metrics()).toContain('cachestack_operation_duration_seconds_count')
    registry.resetMetrics()
    expect(await registry.metrics()).not.toContain('cachestack_operation_duration_seconds_count')
  })

  it('checks its options and what it is given', () => {
    const cache = stack()
    const registry = new Registry()
    expect(() => prometheusMetrics(cache, { registy: registry } as never)).toThrow(
      '"registy" is not an option of prometheusMetrics(); did you mean "registry"?',
    )
    expect(() => prometheusMetrics(cache, { prefix: 'bad prefix' })).toThrow(ValidationError)
    expect(() => prometheusMetrics(cache, { registry, buckets: [0.1, 0.01] })).toThrow('"buckets"')
    expect(() => prometheusMetrics(cache, { registry: {} as never })).toThrow('"registry"')
    expect(() => prometheusMetrics(cache.namespace('users'), { registry })).toThrow('root stack')
    expect(() => prometheusMetrics({} as never)).toThrow(ValidationError)
    // A name someone else registered: a clear error, and none of ours left half-registered.
    const taken = new Registry()
    new Counter({ name: 'cachestack_sets_total', help: 'not ours', registers: [taken] })
    expect(() => prometheusMetrics(cache, { registry: taken })).toThrow(
      '"cachestack_sets_total" is already registered in this registry',
    )
    expect(taken.getMetricsAsArray().map((metric) => metric.name)).toEqual(['cachestack_sets_total'])
    expect(() => measure(cache, { registry: taken, prefix: 'app_cache_' })).not.toThrow()
  })
})

// The figures getStats() gained for operators (issue 17): the stack's name, factory runs and errors,
// coalesced waiters, background refreshes, stale hits per layer, L1 size and the bus connection. The
// Prometheus exporter reads them at scrape time, so the hit path does no extra work for it.
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { CacheStack } from '../cache-stack.ts'
import { RedisBus } from '../distributed/redis-bus.ts'
import { ValidationError } from '../errors.ts'
import { MemoryLayer } from '../layers/memory-layer.ts'
import { createManualClock } from '../testing/index.ts'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function stack(...args: ConstructorParameters<typeof CacheStack>): CacheStack {
  const cache = new CacheStack(...args)
  cleanups.push(() => cache.disconnect())
  return cache
}

describe('the name option', () => {
  it('defaults to "default", is shared by namespaces, and is checked', () => {
    expect(stack().name).toBe('default')
    const named = stack(undefined, { name: 'sessions' })
    expect(named.name).toBe('sessions')
    expect(named.namespace('users').name).toBe('sessions')
    for (const name of ['', 'has space', 'x'.repeat(65), 42, 'quote"'] as unknown[]) {
      expect(() => new CacheStack(undefined, { name: name as string })).toThrow(ValidationError)
    }
    expect(() => new CacheStack(undefined, { nmae: 'x' } as never)).toThrow('did you mean "name"?')
  })
})

describe('operation counters in getStats()', () => {
  it('counts factory runs once per key however many callers wait, and counts waiters and failures', async () => {
    const cache = stack()
    let release!: (value: string) => void
    const gate = new Promise<string>((resolve) => {
      release = resolve
    })
    const reads = Array.from({ length: 10 }, () => cache.get('k', () => gate))
    release('v')
    await Promise.all(reads)
    await expect(
      cache.get('bad', () => {
        throw new Error('upstream down')
      }),
    ).rejects.toThrow()
    const stats = cache.getStats()
    expect(stats).toMatchObject({ factoryRuns: 2, factoryErrors: 1, coalesced: 9, backgroundRefreshes: 0 })
    cache.resetMetrics()
    expect(cache.getStats()).toMatchObject({ factoryRuns: 0, factoryErrors: 0, coalesced: 0 })
  })

  it('counts background refreshes and stale hits on the layer that served them', async () => {
    const clock = createManualClock(1_700_000_000_000)
    const cache = stack([new MemoryLayer({ name: 'l1' }), new MemoryLayer({ name: 'l2' })], {
      clock,
      ttl: '10s',
      staleWhileRevalidate: '1m',
    })
    await cache.set('k', 'v1')
    clock.advance(11_000)
    expect(await cache.get('k', () => 'v2')).toBe('v1')
    await new Promise((resolve) => setImmediate(resolve))
    const stats = cache.getStats()
    expect(stats.backgroundRefreshes).toBe(1)
    expect(stats.factoryRuns).toBe(1)
    expect(stats.staleHits).toBe(1)
    expect(stats.layers.map((layer) => [layer.name, layer.staleHits])).toEqual([
      ['l1', 1],
      ['l2', 0],
    ])
  })
})

describe('layer usage and bus state in getStats()', () => {
  it('reports the memory layer entries, and bytes only with a byte budget', async () => {
    const counted = stack([new MemoryLayer()])
    const budgeted = stack([new MemoryLayer({ maxBytes: '1mb' })])
    for (const cache of [counted, budgeted]) {
      await cache.set('a', 'x'.repeat(1000))
      await cache.set('b', 1)
    }
    expect(counted.getStats().layers[0]).toMatchObject({ items: 2 })
    expect(counted.getStats().layers[0]).not.toHaveProperty('bytes')
    const budget = budgeted.getStats().layers[0]!
    expect(budget.items).toBe(2)
    expect(budget.bytes).toBeGreaterThan(1000)
  })

  it('says whether the bus hears other instances, and nothing without a bus', async () => {
    const client = new Redis(process.env.CACHESTACK_TEST_REDIS_URL!)
    cleanups.push(() => client.quit())
    const withBus = stack([new MemoryLayer()], { bus: new RedisBus({ client }) })
    await withBus.ready()
    expect(withBus.getStats().busConnected).toBe(true)
    expect(stack().getStats()).not.toHaveProperty('busConnected')
  })
})

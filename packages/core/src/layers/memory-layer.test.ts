import { setImmediate as tick } from 'node:timers/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { LayerError, ValidationError } from '../errors.ts'
import { createManualClock, createTestEntry, describeLayerContract } from '../testing/index.ts'
import { MemoryLayer, type MemoryLayerOptions } from './memory-layer.ts'

const EVICTIONS = ['lru', 'lfu', 'fifo'] as const

for (const eviction of EVICTIONS) {
  describeLayerContract(`MemoryLayer (${eviction}, fake clock)`, () => new MemoryLayer({ eviction }), {
    clock: createManualClock(),
  })
  describeLayerContract(
    `MemoryLayer (${eviction}, byte budget, fake clock)`,
    () => new MemoryLayer({ eviction, maxBytes: '64mb', maxItems: 100_000 }),
    { clock: createManualClock() },
  )
}
describeLayerContract('MemoryLayer (lru, real clock)', () => new MemoryLayer())

const entry = (value: unknown) => createTestEntry(value)

function layerWithClock(options: MemoryLayerOptions = {}) {
  const clock = createManualClock()
  const layer = new MemoryLayer(options)
  layer.attach({ clock, reportError: () => {} })
  return { layer, clock }
}

describe('MemoryLayer eviction', () => {
  // a is read most often, c most recently: LRU and LFU disagree on who leaves.
  async function evictAfterReads(eviction: 'lru' | 'lfu' | 'fifo'): Promise<string[]> {
    const { layer } = layerWithClock({ eviction, maxItems: 3 })
    for (const key of ['a', 'b', 'c']) layer.set(key, entry(key), undefined)
    for (let i = 0; i < 5; i++) layer.get('a')
    layer.get('b')
    layer.get('b')
    layer.get('c')
    layer.set('d', entry('d'), undefined)
    const left: string[] = []
    for await (const key of layer.keys()) left.push(key)
    return left.sort()
  }

  it('lfu evicts the least frequently used entry', async () => {
    expect(await evictAfterReads('lfu')).toEqual(['a', 'b', 'd'])
  })

  it('lru evicts the least recently used entry', async () => {
    expect(await evictAfterReads('lru')).toEqual(['b', 'c', 'd'])
  })

  it('fifo evicts the oldest write whatever its reads', async () => {
    expect(await evictAfterReads('fifo')).toEqual(['b', 'c', 'd'])
    const { layer } = layerWithClock({ eviction: 'fifo', maxItems: 2 })
    layer.set('x', entry(1), undefined)
    layer.set('y', entry(2), undefined)
    layer.get('x')
    layer.set('z', entry(3), undefined)
    expect(layer.get('x')).toBeUndefined()
    expect(layer.get('y')?.value).toBe(2)
  })

  it('lfu breaks ties by recency', () => {
    const { layer } = layerWithClock({ eviction: 'lfu', maxItems: 2 })
    layer.set('x', entry(1), undefined)
    layer.set('y', entry(2), undefined)
    layer.set('z', entry(3), undefined)
    expect(layer.get('x')).toBeUndefined()
    expect(layer.get('y')?.value).toBe(2)
  })

  it.each(EVICTIONS)('%s keeps within maxBytes, evicting as it goes', (eviction) => {
    const { layer } = layerWithClock({ eviction, maxBytes: '10kb' })
    const value = 'v'.repeat(1000)
    for (let i = 0; i < 50; i++) layer.set(`k${i}`, entry(value), undefined)
    expect(layer.bytes).toBeLessThanOrEqual(10 * 1024)
    expect(layer.size).toBeGreaterThan(1)
    expect(layer.size).toBeLessThan(10)
    expect(layer.get('k0')).toBeUndefined()
    expect(layer.get('k49')?.value).toBe(value)
  })

  it.each(EVICTIONS)('%s refuses an entry over maxEntryBytes with a LayerError', (eviction) => {
    const { layer } = layerWithClock({ eviction, maxBytes: '1mb', maxEntryBytes: '1kb' })
    layer.set('k', entry('small'), undefined)
    let error: unknown
    try {
      layer.set('k', entry('x'.repeat(2000)), undefined)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(LayerError)
    expect((error as LayerError).layer).toBe('memory')
    // The old value is gone rather than silently kept.
    expect(layer.get('k')).toBeUndefined()
  })

  it('lfu reclaims expired entries that nobody reads again', () => {
    const { layer, clock } = layerWithClock({ eviction: 'lfu' })
    layer.set('hot', entry('hot'), 10)
    for (let i = 0; i < 100; i++) layer.get('hot')
    clock.advance(20)
    for (let i = 0; i < 10; i++) layer.set(`cold${i}`, entry(i), undefined)
    expect(layer.size).toBe(10)
  })
})

describe('MemoryLayer TTLs', () => {
  const warnings: Error[] = []
  const onWarning = (warning: Error) => warnings.push(warning)
  beforeEach(() => {
    warnings.length = 0
    process.on('warning', onWarning)
  })
  afterEach(() => {
    process.off('warning', onWarning)
  })

  it.each(EVICTIONS)('%s holds a 40-day TTL without a timer warning', async (eviction) => {
    const { layer, clock } = layerWithClock({ eviction })
    const day = 86_400_000
    layer.set('long', entry('v'), 40 * day)
    layer.set('forever', entry('f'), Number.POSITIVE_INFINITY)
    clock.advance(39 * day)
    expect(layer.get('long')?.value).toBe('v')
    expect(await layer.ttl('long')).toBe(day)
    clock.advance(2 * day)
    expect(layer.get('long')).toBeUndefined()
    expect(await layer.ttl('forever')).toBe(Number.POSITIVE_INFINITY)
    await tick()
    expect(warnings).toEqual([])
  })

  it.each(EVICTIONS)('%s drops an entry written with a TTL of 0 or less', async (eviction) => {
    const { layer } = layerWithClock({ eviction })
    layer.set('k', entry(1), undefined)
    layer.set('k', entry(2), 0)
    expect(await layer.has('k')).toBe(false)
    expect(() => layer.set('k', entry(3), Number.NaN)).toThrow(ValidationError)
  })

  it.each(EVICTIONS)('%s judges expiry at the time a get is given, without reading the clock', (eviction) => {
    const { layer, clock } = layerWithClock({ eviction })
    const start = clock.now()
    layer.set('k', entry(1), 100)
    let reads = 0
    layer.attach({ clock: { now: () => (reads++, clock.now()) }, reportError: () => {} })
    expect(layer.get('k', start + 100)?.value).toBe(1)
    expect(layer.get('k', start + 101)).toBeUndefined()
    expect(reads).toBe(0)
    // The time lent to one get is not kept: the next one without it reads the clock.
    layer.set('j', entry(2), 100)
    expect(layer.get('j')?.value).toBe(2)
    expect(reads).toBeGreaterThan(0)
  })

  it('works with a fake clock that starts at 0', () => {
    const layer = new MemoryLayer()
    let now = 0
    layer.attach({ clock: { now: () => now }, reportError: () => {} })
    layer.set('k', entry(1), 100)
    now = 101
    expect(layer.get('k')).toBeUndefined()
  })
})

describe('MemoryLayer values', () => {
  it('hands out frozen values: a mutation throws and changes nothing', () => {
    const { layer } = layerWithClock()
    const written = { user: { name: 'Ada' }, roles: ['admin'] }
    layer.set('k', { ...entry(written), tags: ['t'] }, undefined)
    written.user.name = 'Grace'
    written.roles.push('user')
    const read = layer.get('k')!
    const value = read.value as typeof written
    expect(() => {
      value.user.name = 'Eve'
    }).toThrow(TypeError)
    expect(() => value.roles.push('root')).toThrow(TypeError)
    expect(() => read.tags!.push('x')).toThrow(TypeError)
    expect(layer.get('k')?.value).toEqual({ user: { name: 'Ada' }, roles: ['admin'] })
    // A hit hands out the stored object itself: no copy on the read path.
    expect(layer.get('k')?.value).toBe(value)
  })

  it('copies on read the values freezing cannot protect', () => {
    const { layer } = layerWithClock()
    const written = { map: new Map([['a', { n: 1 }]]), date: new Date(0), bytes: Buffer.from('ab') }
    layer.set('k', entry(written), undefined)
    const read = layer.get('k')!.value as typeof written
    read.map.set('b', { n: 2 })
    read.map.get('a')!.n = 3
    read.date.setTime(1000)
    read.bytes[0] = 0
    const again = layer.get('k')!.value as typeof written
    expect([...again.map]).toEqual([['a', { n: 1 }]])
    expect(again.date.getTime()).toBe(0)
    expect(Buffer.from(again.bytes).toString()).toBe('ab')
  })

  it('refuses a value it cannot copy with a LayerError', () => {
    const { layer } = layerWithClock()
    expect(() => layer.set('k', entry({ fn: () => 1 }), undefined)).toThrow(LayerError)
  })

  it("stores the caller's object as is in 'reference' mode", () => {
    const { layer } = layerWithClock({ values: 'reference' })
    const written = { n: 1 }
    layer.set('k', entry(written), undefined)
    expect(layer.get('k')?.value).toBe(written)
    expect(Object.isFrozen(written)).toBe(false)
  })
})

describe('MemoryLayer options', () => {
  it.each([
    [{ maxItems: 0 }, 'maxItems'],
    [{ maxItems: 1.5 }, 'maxItems'],
    [{ maxItems: '10' }, 'maxItems'],
    [{ maxBytes: 'lots' }, 'maxBytes'],
    [{ maxBytes: 0 }, 'maxBytes'],
    [{ maxBytes: -5 }, 'maxBytes'],
    [{ maxEntryBytes: '1x' }, 'maxEntryBytes'],
    [{ maxEntryBytes: 0 }, 'maxEntryBytes'],
    [{ maxBytes: '1kb', maxEntryBytes: '2kb' }, 'maxEntryBytes'],
    [{ eviction: 'random' }, 'eviction'],
    [{ values: 'copy' }, 'values'],
    [{ name: '' }, 'name'],
  ])('throws a ValidationError for %o naming %s', (options, option) => {
    let error: unknown
    try {
      new MemoryLayer(options as MemoryLayerOptions)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).option).toBe(option)
  })
})

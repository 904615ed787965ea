import { afterEach, describe, expect, it } from 'vitest'
import { CacheStack } from '../cache-stack.ts'
import { FactoryError, ValidationError, type WarmProgress } from '../index.ts'

const stacks: CacheStack[] = []
function stack(): CacheStack {
  const cache = new CacheStack()
  stacks.push(cache)
  return cache
}
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((cache) => cache.disconnect()))
})

/** A factory gate: each started factory waits until the test releases it. */
function gates() {
  const waiting: (() => void)[] = []
  let inFlight = 0
  let maxInFlight = 0
  const started: string[] = []
  return {
    started,
    get inFlight() {
      return inFlight
    },
    get maxInFlight() {
      return maxInFlight
    },
    factory(key: string, fail = false) {
      return async () => {
        started.push(key)
        inFlight++
        maxInFlight = Math.max(maxInFlight, inFlight)
        await new Promise<void>((resolve) => waiting.push(resolve))
        inFlight--
        if (fail) throw new Error(`boom ${key}`)
        return `value of ${key}`
      }
    },
    /** Releases the oldest waiting factory; false when none waits. */
    releaseOne(): boolean {
      const next = waiting.shift()
      next?.()
      return next !== undefined
    },
    waiting,
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve()
  await new Promise((resolve) => setImmediate(resolve))
}

describe('warm()', () => {
  it('runs the highest priority first, equal priorities in the order given', async () => {
    const cache = stack()
    const order: string[] = []
    const entry = (key: string, priority?: number) => ({
      key,
      priority,
      fetcher: () => {
        order.push(key)
        return key.toUpperCase()
      },
    })
    const result = await cache.warm(
      [entry('low', 1), entry('none'), entry('high', 10), entry('mid-a', 5), entry('mid-b', 5)],
      { concurrency: 1 },
    )
    expect(order).toEqual(['high', 'mid-a', 'mid-b', 'low', 'none'])
    expect(result).toEqual({ total: 5, warmed: 5, failed: [] })
    expect(await cache.get('mid-b')).toBe('MID-B')
  })

  it('never has more than `concurrency` factories in flight, and does use all of them', async () => {
    const cache = stack()
    const gate = gates()
    const entries = Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, fetcher: gate.factory(`k${i}`) }))
    const progress: WarmProgress[] = []
    const done = cache.warm(entries, { concurrency: 3, onProgress: (p) => progress.push(p) })
    await settle()
    expect(gate.inFlight).toBe(3)
    while (gate.releaseOne()) {
      await settle()
      expect(gate.inFlight).toBeLessThanOrEqual(3)
    }
    const result = await done
    expect(gate.maxInFlight).toBe(3)
    expect(gate.started).toHaveLength(20)
    expect(result.warmed).toBe(20)
    expect(progress.map((p) => p.completed)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    expect(progress.every((p) => p.total === 20 && p.error === undefined)).toBe(true)
    expect(await cache.get('k19')).toBe('value of k19')
  })

  it('with continueOnError collects every failure, warms the rest and reports each failure', async () => {
    const cache = stack()
    const progress: WarmProgress[] = []
    const result = await cache.warm(
      [
        { key: 'a', fetcher: () => 1 },
        {
          key: 'bad',
          fetcher: () => {
            throw new Error('db down')
          },
        },
        { key: 'c', fetcher: async () => 3 },
      ],
      { concurrency: 1, continueOnError: true, onProgress: (p) => progress.push(p) },
    )
    expect(result.total).toBe(3)
    expect(result.warmed).toBe(2)
    expect(result.failed.map((f) => f.key)).toEqual(['bad'])
    expect(result.failed[0]!.error).toBeInstanceOf(FactoryError)
    expect(progress.map((p) => [p.completed, p.key, p.error !== undefined])).toEqual([
      [1, 'a', false],
      [2, 'bad', true],
      [3, 'c', false],
    ])
    expect(await cache.get('c')).toBe(3)
    expect(await cache.get('bad')).toBeUndefined()
  })

  it('without continueOnError rejects at the first failure while others still run, and starts no more', async () => {
    const cache = stack()
    const gate = gates()
    const entries = [
      { key: 'slow', fetcher: gate.factory('slow'), priority: 3 },
      { key: 'fails', fetcher: gate.factory('fails', true), priority: 2 },
      { key: 'later', fetcher: gate.factory('later'), priority: 1 },
    ]
    const done = cache.warm(entries, { concurrency: 2 })
    const outcome = done.then(
      () => 'resolved',
      (error: unknown) => error,
    )
    await settle()
    expect(gate.started).toEqual(['slow', 'fails'])
    // Release 'fails' (the second waiter) while 'slow' keeps running.
    const [slow, fails] = gate.waiting.splice(0, 2)
    fails!()
    const error = await outcome
    expect(error).toBeInstanceOf(FactoryError)
    expect((error as FactoryError).key).toBe('fails')
    expect(gate.inFlight).toBe(1)
    slow!()
    await settle()
    expect(gate.started).toEqual(['slow', 'fails'])
  })

  it('keeps a fresh cached value (no factory call) and warms a namespace under its prefix', async () => {
    const cache = stack()
    await cache.set('cached', 'old')
    let calls = 0
    await cache.warm([
      {
        key: 'cached',
        fetcher: () => {
          calls++
          return 'new'
        },
      },
    ])
    expect(calls).toBe(0)
    expect(await cache.get('cached')).toBe('old')
    await cache.namespace('users').warm([{ key: '1', factory: () => 'ada', options: { tags: ['people'] } }])
    expect(await cache.get('users:1')).toBe('ada')
    await cache.invalidateByTag('people')
    expect(await cache.get('users:1')).toBeUndefined()
  })

  it('refuses bad entries and options with a ValidationError naming them, before any factory runs', async () => {
    const cache = stack()
    let calls = 0
    const ok = {
      key: 'ok',
      fetcher: () => {
        calls++
        return 1
      },
    }
    const cases: [unknown, unknown, string][] = [
      [[ok], { concurency: 2 }, 'concurency'],
      [[ok], { concurrency: 0 }, 'concurrency'],
      [[ok], { concurrency: 1.5 }, 'concurrency'],
      [[ok], { onProgress: 'yes' }, 'onProgress'],
      [[ok, { key: 'x', fetcher: () => 1, priorty: 2 }], undefined, 'entries[1].priorty'],
      [[ok, { key: '', fetcher: () => 1 }], undefined, 'entries[1].key'],
      [[ok, { key: 'x' }], undefined, 'entries[1].fetcher'],
      [[ok, { key: 'x', fetcher: () => 1, options: { tll: 5 } }], undefined, 'entries[1].options.tll'],
      ['nope', undefined, 'entries'],
    ]
    for (const [entries, options, option] of cases) {
      const error = await cache.warm(entries as never, options as never).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).option).toBe(option)
    }
    expect(calls).toBe(0)
  })

  it('a throwing onProgress does not stop the warm-up', async () => {
    const cache = stack()
    const result = await cache.warm(
      [
        { key: 'a', fetcher: () => 1 },
        { key: 'b', fetcher: () => 2 },
      ],
      {
        onProgress: () => {
          throw new Error('display broke')
        },
      },
    )
    expect(result.warmed).toBe(2)
  })
})

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type CacheEntry, type CacheLayer, type Clock, FOREVER, systemClock } from '../layer.ts'

/** A clock the contract suite can move forward instead of sleeping. */
export interface AdvanceableClock extends Clock {
  advance(ms: number): void
}

/** Options of `describeLayerContract`. */
export interface LayerContractOptions {
  /**
   * Attached to every layer (via `attach`) and advanced by the expiry tests. Leave it out for layers that
   * keep their own time (Redis): the suite then waits for real, at most ~100 ms per expiry test.
   */
  clock?: AdvanceableClock
  /** TTL, in ms, the expiry tests write with; the real wait is this plus 60 ms. @default 40 */
  shortTtl?: number
}

/** A clock that starts at `start` and only moves when told to. */
export function createManualClock(start = Date.UTC(2025, 0, 1)): AdvanceableClock {
  let now = start
  return {
    now: () => now,
    advance: (ms) => {
      now += ms
    },
  }
}

/** An entry that never goes stale, for tests of layers and stores. */
export function createTestEntry(value: unknown, extra: Partial<CacheEntry> = {}): CacheEntry {
  return { value, createdAt: 1, freshUntil: FOREVER, swrUntil: FOREVER, graceUntil: FOREVER, ...extra }
}

/** An entry as the stack writes one, fresh for an hour from `now`. */
function entryOf(value: unknown, now: number, extra: Partial<CacheEntry> = {}): CacheEntry {
  const freshUntil = now + 3_600_000
  return { value, createdAt: now, freshUntil, swrUntil: freshUntil, graceUntil: freshUntil, ...extra }
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out = new Set<string>()
  for await (const key of iterable) out.add(key)
  return [...out].sort()
}

/**
 * The shared contract every `CacheLayer` passes: registers a Vitest `describe` block that runs each
 * method of the interface against a fresh layer from `createLayer` (disposed after each test).
 */
export function describeLayerContract(
  name: string,
  createLayer: () => CacheLayer | Promise<CacheLayer>,
  options: LayerContractOptions = {},
): void {
  const clock = options.clock ?? systemClock
  const shortTtl = options.shortTtl ?? 40
  const run = Math.random().toString(36).slice(2, 8)
  let sequence = 0
  let layer: CacheLayer
  let reported: { error: unknown; operation: string; key?: string | undefined }[] = []

  /** A key no other test (or run) uses. */
  const uniqueKey = (label: string) => `contract:${run}:${++sequence}:${label}`
  const entry = (value: unknown, extra?: Partial<CacheEntry>) => entryOf(value, clock.now(), extra)
  const pass = async (ms: number) => {
    if (options.clock) options.clock.advance(ms)
    else await new Promise((resolve) => setTimeout(resolve, ms))
  }
  const expiryWait = () => pass(shortTtl + 60)
  // On a real clock (Redis expires server-side) a loaded machine can let a short TTL run out before the
  // first read comes back; the "still there" checks apply only to reads that started in time.
  const readInTime = (since: number) =>
    options.clock !== undefined || performance.now() - since < shortTtl / 2

  describe(`${name} (layer contract)`, () => {
    beforeEach(async () => {
      reported = []
      layer = await createLayer()
      layer.attach?.({
        clock,
        reportError: (error, operation, key) => reported.push({ error, operation, key }),
      })
    })

    afterEach(async () => {
      await layer.dispose()
      // Healthy data never needs recovering from: any report here is a layer bug.
      expect(reported).toEqual([])
    })

    it('has a name and says whether it is local', () => {
      expect(typeof layer.name).toBe('string')
      expect(layer.name.length).toBeGreaterThan(0)
      expect(typeof layer.isLocal).toBe('boolean')
    })

    it.each([
      ['a string', 'hello'],
      ['an empty string', ''],
      ['an integer', 42],
      ['a negative float', -1234.5678],
      ['zero', 0],
      ['null', null],
      ['true', true],
      ['false', false],
      ['a nested object', { a: { b: { c: [1, 2, { d: 'e' }] } }, f: null, g: 'h' }],
      ['an array', [1, 'two', null, { three: 3 }, [4]]],
      ['an empty object', {}],
      ['unicode', 'héllo wörld — 日本語 — 🚀🎉 — e\u0301 — \u{1f468}\u200d\u{1f469}\u200d\u{1f467}'],
      ['a large string', 'x'.repeat(1024 * 1024)],
      ['a large array', Array.from({ length: 10_000 }, (_, i) => ({ id: i, name: `item-${i}` }))],
    ])('round-trips %s through set and get', async (_label, value) => {
      const key = uniqueKey('round-trip')
      await layer.set(key, entry(value), undefined)
      expect((await layer.get(key))?.value).toEqual(value)
    })

    it('keeps every field of the entry', async () => {
      const key = uniqueKey('metadata')
      const now = clock.now() + 0.25
      const written: CacheEntry = {
        value: { id: 1 },
        createdAt: now,
        freshUntil: FOREVER,
        swrUntil: FOREVER,
        graceUntil: FOREVER,
        tags: ['users', 'user:1'],
        namespace: 'tenant:a:',
      }
      await layer.set(key, written, undefined)
      expect(await layer.get(key)).toEqual(written)
    })

    it('answers an entry the stack would refuse (isDead) whole, with its fields and value', async () => {
      const [dead, live] = [uniqueKey('dead'), uniqueKey('live')]
      const deadEntry = entry({ id: 1, list: [1, 2] }, { tags: ['gone'], namespace: 'tenant:a:' })
      const liveEntry = entry('kept', { tags: ['kept'] })
      await layer.set(dead, deadEntry, undefined)
      await layer.set(live, liveEntry, undefined)
      layer.attach?.({
        clock,
        reportError: (error, operation, key) => reported.push({ error, operation, key }),
        isDead: (head) => head.tags?.includes('gone') === true,
      })
      // A layer may skip decoding a dead entry's value, but must still answer the entry: the stack
      // counts it and removes it (or overwrites it), and anyone reading its value gets that value.
      const [got, many] = [await layer.get(dead), await layer.getMany([dead, live])]
      expect(got).toEqual(deadEntry)
      expect(many).toEqual([deadEntry, liveEntry])
      expect(await layer.get(live)).toEqual(liveEntry)
    })

    it('answers undefined for a missing key', async () => {
      expect(await layer.get(uniqueKey('missing'))).toBeUndefined()
      expect(await layer.has(uniqueKey('missing'))).toBe(false)
    })

    it('overwrites a value and its TTL', async () => {
      const key = uniqueKey('overwrite')
      await layer.set(key, entry('one'), 60_000)
      await layer.set(key, entry('two'), undefined)
      expect((await layer.get(key))?.value).toBe('two')
      expect(await layer.ttl(key)).toBe(Number.POSITIVE_INFINITY)
    })

    it('never lets a caller change what it holds', async () => {
      const key = uniqueKey('isolation')
      const value = { list: [1, 2], nested: { n: 1 } }
      await layer.set(key, entry(value), undefined)
      value.list.push(3)
      value.nested.n = 2
      const first = (await layer.get(key))?.value as typeof value
      try {
        first.list.push(4)
        first.nested.n = 3
      } catch {
        // Frozen values refuse the change; that is one of the two allowed behaviours.
      }
      expect((await layer.get(key))?.value).toEqual({ list: [1, 2], nested: { n: 1 } })
    })

    it('getMany answers in order, with duplicates and misses', async () => {
      const [a, b, missing] = [uniqueKey('many-a'), uniqueKey('many-b'), uniqueKey('many-missing')]
      await layer.set(a, entry('A'), undefined)
      await layer.set(b, entry({ b: true }), 60_000)
      const found = await layer.getMany([b, missing, a, b, a])
      expect(found.map((e) => e?.value)).toEqual([{ b: true }, undefined, 'A', { b: true }, 'A'])
      expect(await layer.getMany([])).toEqual([])
    })

    it('setMany writes every entry with its own TTL', async () => {
      const keys = Array.from({ length: 50 }, (_, i) => uniqueKey(`set-many-${i}`))
      await layer.setMany(keys.map((key, i) => ({ key, entry: entry(i), ttl: i % 2 ? 60_000 : undefined })))
      expect((await layer.getMany(keys)).map((e) => e?.value)).toEqual(keys.map((_, i) => i))
      expect(await layer.ttl(keys[0]!)).toBe(Number.POSITIVE_INFINITY)
      const ttl = await layer.ttl(keys[1]!)
      expect(ttl).toBeGreaterThan(50_000)
      expect(ttl).toBeLessThanOrEqual(60_000)
      await layer.setMany([])
    })

    it('delete answers whether the key existed', async () => {
      const key = uniqueKey('delete')
      await layer.set(key, entry('v'), undefined)
      expect(await layer.delete(key)).toBe(true)
      expect(await layer.get(key)).toBeUndefined()
      expect(await layer.delete(key)).toBe(false)
    })

    it('deleteMany answers how many keys it removed', async () => {
      const keys = Array.from({ length: 20 }, (_, i) => uniqueKey(`delete-many-${i}`))
      await layer.setMany(keys.map((key) => ({ key, entry: entry('v'), ttl: undefined })))
      const missing = uniqueKey('delete-many-missing')
      expect(await layer.deleteMany([...keys, missing, keys[0]!])).toBe(keys.length)
      expect((await layer.getMany(keys)).every((e) => e === undefined)).toBe(true)
      expect(await layer.deleteMany([])).toBe(0)
    })

    it('expires an entry after its TTL', async () => {
      const key = uniqueKey('expiry')
      const forever = uniqueKey('forever')
      const since = performance.now()
      await layer.set(key, entry('short'), shortTtl)
      await layer.set(forever, entry('long'), undefined)
      if (readInTime(since)) {
        expect((await layer.get(key))?.value).toBe('short')
        expect(await layer.has(key)).toBe(true)
      }
      await expiryWait()
      expect(await layer.get(key)).toBeUndefined()
      expect(await layer.has(key)).toBe(false)
      expect(await layer.ttl(key)).toBeUndefined()
      expect((await layer.getMany([key, forever])).map((e) => e?.value)).toEqual([undefined, 'long'])
      expect(await collect(layer.keys(key))).toEqual([])
    })

    it('rounds a fractional TTL and expires setMany entries too', async () => {
      const [a, b] = [uniqueKey('fraction-a'), uniqueKey('fraction-b')]
      const since = performance.now()
      await layer.setMany([
        { key: a, entry: entry('a'), ttl: shortTtl + 0.4 },
        { key: b, entry: entry('b'), ttl: undefined },
      ])
      if (readInTime(since)) expect((await layer.get(a))?.value).toBe('a')
      await expiryWait()
      expect(await layer.get(a)).toBeUndefined()
      expect((await layer.get(b))?.value).toBe('b')
    })

    it('ttl answers Infinity, the remaining time, or undefined', async () => {
      const [forever, expiring, absent] = [uniqueKey('ttl-f'), uniqueKey('ttl-e'), uniqueKey('ttl-a')]
      await layer.set(forever, entry('f'), undefined)
      await layer.set(expiring, entry('e'), 30_000)
      expect(await layer.ttl(forever)).toBe(Number.POSITIVE_INFINITY)
      const remaining = await layer.ttl(expiring)
      expect(remaining).toBeGreaterThan(25_000)
      expect(remaining).toBeLessThanOrEqual(30_000)
      expect(await layer.ttl(absent)).toBeUndefined()
    })

    it('keeps a TTL longer than 24.8 days', async () => {
      const key = uniqueKey('long-ttl')
      const thirtyDays = 30 * 86_400_000
      await layer.set(key, entry('v'), thirtyDays)
      const remaining = await layer.ttl(key)
      expect(remaining).toBeGreaterThan(thirtyDays - 60_000)
      expect(remaining).toBeLessThanOrEqual(thirtyDays)
    })

    it('has answers true for a stored key only', async () => {
      const key = uniqueKey('has')
      expect(await layer.has(key)).toBe(false)
      await layer.set(key, entry(null), undefined)
      expect(await layer.has(key)).toBe(true)
    })

    it('keys(prefix) lists the keys under a prefix, as written', async () => {
      const prefix = uniqueKey('keys:')
      const inside = [`${prefix}a`, `${prefix}b`, `${prefix}c:d`]
      const outside = uniqueKey('keys-outside')
      await layer.setMany([...inside, outside].map((key) => ({ key, entry: entry(1), ttl: undefined })))
      expect(await collect(layer.keys(prefix))).toEqual([...inside].sort())
      const all = await collect(layer.keys())
      for (const key of [...inside, outside]) expect(all).toContain(key)
    })

    it('clear(prefix) removes only the keys under the prefix', async () => {
      const prefix = uniqueKey('clear:')
      const inside = Array.from({ length: 30 }, (_, i) => `${prefix}${i}`)
      const outside = uniqueKey('clear-outside')
      await layer.setMany([...inside, outside].map((key) => ({ key, entry: entry(1), ttl: undefined })))
      await layer.clear(prefix)
      expect((await layer.getMany(inside)).every((e) => e === undefined)).toBe(true)
      expect(await collect(layer.keys(prefix))).toEqual([])
      expect((await layer.get(outside))?.value).toBe(1)
    })

    it.each([['*'], ['?'], ['['], [']'], ['\\'], ['[a-z]']])(
      'matches a prefix containing %s literally in clear and keys',
      async (glob) => {
        const base = uniqueKey('glob')
        const literal = `${base}${glob}x:`
        // Keys a glob reading of the prefix would match, and a plain one next to them.
        const decoys = [`${base}zx:1`, `${base}ax:1`, `${base}]x:1`, `${base}x:1`, `${base}\\x:1`].filter(
          (key) => !key.startsWith(literal),
        )
        const inside = [`${literal}1`, `${literal}2`]
        await layer.setMany([...inside, ...decoys].map((key) => ({ key, entry: entry(1), ttl: undefined })))
        expect(await collect(layer.keys(literal))).toEqual([...inside].sort())
        await layer.clear(literal)
        expect((await layer.getMany(inside)).every((e) => e === undefined)).toBe(true)
        expect((await layer.getMany(decoys)).map((e) => e?.value)).toEqual(decoys.map(() => 1))
      },
    )

    it('clear() removes every key of the layer', async () => {
      const keys = Array.from({ length: 10 }, (_, i) => uniqueKey(`clear-all-${i}`))
      await layer.setMany(keys.map((key) => ({ key, entry: entry('v'), ttl: undefined })))
      await layer.clear()
      expect((await layer.getMany(keys)).every((e) => e === undefined)).toBe(true)
      expect(await collect(layer.keys())).toEqual([])
    })

    it('serves 500 concurrent writes and reads', async () => {
      const keys = Array.from({ length: 500 }, (_, i) => uniqueKey(`concurrent-${i}`))
      await Promise.all(keys.map((key, i) => layer.set(key, entry({ i }), 60_000)))
      const values = await Promise.all(keys.map(async (key) => (await layer.get(key))?.value))
      expect(values).toEqual(keys.map((_, i) => ({ i })))
    })

    it('ping resolves', async () => {
      await expect(layer.ping()).resolves.toBeUndefined()
    })

    it('dispose resolves, twice', async () => {
      const other = await createLayer()
      await other.dispose()
      await expect(other.dispose()).resolves.toBeUndefined()
    })
  })
}

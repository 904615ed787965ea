import { describe, expect, it } from 'vitest'
import { createTestEntry } from '../testing/index.ts'
import { LfuStore } from './lfu-store.ts'

const entry = (value: unknown) => createTestEntry(value)

/** The obvious O(n) LFU the store must agree with: evict the lowest (uses, last use), never the entry just written. */
class ModelLfu {
  readonly items = new Map<string, { value: unknown; uses: number; lastUse: number }>()
  readonly maxItems: number
  #tick = 0
  constructor(maxItems: number) {
    this.maxItems = maxItems
  }

  get(key: string): unknown {
    const item = this.items.get(key)
    if (!item) return undefined
    item.uses++
    item.lastUse = ++this.#tick
    return item.value
  }

  set(key: string, value: unknown): void {
    const item = this.items.get(key)
    if (item) {
      item.value = value
      item.uses++
      item.lastUse = ++this.#tick
    } else {
      this.items.set(key, { value, uses: 1, lastUse: ++this.#tick })
    }
    while (this.items.size > this.maxItems) {
      let victim: string | undefined
      let best = { uses: Infinity, lastUse: Infinity }
      for (const [k, candidate] of this.items) {
        if (k === key) continue
        if (
          candidate.uses < best.uses ||
          (candidate.uses === best.uses && candidate.lastUse < best.lastUse)
        ) {
          best = candidate
          victim = k
        }
      }
      this.items.delete(victim!)
    }
  }
}

describe('LfuStore', () => {
  it('agrees with a brute-force LFU over 20,000 random operations', () => {
    let seed = 42
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed / 2 ** 31
    }
    const store = new LfuStore({ maxItems: 16, maxBytes: undefined, now: () => 0 })
    const model = new ModelLfu(16)
    for (let op = 0; op < 20_000; op++) {
      // A skewed key distribution, as real traffic has, so that frequencies differ.
      const key = `k${Math.floor(random() ** 2 * 40)}`
      const roll = random()
      if (roll < 0.35) {
        store.set(key, entry(op), undefined, 0)
        model.set(key, op)
      } else if (roll < 0.95) {
        expect(store.get(key)?.value).toBe(model.get(key))
      } else {
        expect(store.delete(key)).toBe(model.items.delete(key))
      }
      expect(store.size).toBe(model.items.size)
    }
    for (const [key, item] of model.items) expect(store.frequency(key)).toBe(item.uses)
  })

  it('evicts by byte budget and refuses an entry larger than the budget', () => {
    const store = new LfuStore({ maxItems: undefined, maxBytes: 100, now: () => 0 })
    store.set('a', entry('a'), undefined, 40)
    store.set('b', entry('b'), undefined, 40)
    store.get('a')
    store.set('c', entry('c'), undefined, 40)
    expect([...store.keys()].sort()).toEqual(['a', 'c'])
    expect(store.bytes).toBe(80)
    store.set('c', entry('c'), undefined, 101)
    expect(store.has('c')).toBe(false)
    expect(store.bytes).toBe(40)
  })

  it('expires lazily against its clock and forgets the frequency of an expired entry', () => {
    let now = 1000
    const store = new LfuStore({ maxItems: 10, maxBytes: undefined, now: () => now })
    store.set('k', entry(1), 50, 0)
    store.get('k')
    expect(store.remainingTtl('k')).toBe(50)
    now += 50
    expect(store.get('k')?.value).toBe(1)
    now += 1
    expect(store.get('k')).toBeUndefined()
    expect(store.remainingTtl('k')).toBeUndefined()
    store.set('k', entry(2), undefined, 0)
    expect(store.frequency('k')).toBe(1)
    expect(store.remainingTtl('k')).toBe(Number.POSITIVE_INFINITY)
  })
})

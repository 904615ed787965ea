import { describe, expect, it } from 'vitest'
import { createTestRedis, uniquePrefix } from '../../../../tools/test-redis.ts'
import { CacheStack } from '../cache-stack.ts'
import { markUnshared } from '../layer.ts'
import { MemoryLayer } from './memory-layer.ts'
import { frozenCopy } from './memory-values.ts'

const copyValue = <T>(value: T): T => frozenCopy(value).value

import { RedisLayer } from './redis-layer.ts'

describe('frozenCopy', () => {
  it('copies plain JSON data into an independent, equal value', () => {
    const original = { a: [1, 'two', { three: true, four: null }], nested: { deep: { list: [] } } }
    const copy = copyValue(original)
    expect(copy).toEqual(original)
    expect(copy).not.toBe(original)
    expect(copy.a[2]).not.toBe(original.a[2])
  })

  it('keeps what JSON would lose by falling back to structuredClone', () => {
    const date = new Date('2026-01-02T03:04:05Z')
    const sparse: number[] = []
    sparse[0] = 1
    sparse[2] = 3
    const value = {
      date,
      map: new Map([[1, 'x']]),
      missing: undefined,
      sparse,
      negativeZero: -0,
      nan: Number.NaN,
    }
    const copy = copyValue(value)
    expect(copy.date).toBeInstanceOf(Date)
    expect(copy.date.getTime()).toBe(date.getTime())
    expect(copy.map.get(1)).toBe('x')
    expect('missing' in copy).toBe(true)
    expect(1 in copy.sparse).toBe(false)
    expect(Object.is(copy.negativeZero, -0)).toBe(true)
    expect(copy.nan).toBeNaN()
  })

  it('leaves symbol-keyed properties out of the copy, as structuredClone does, and freezes it', () => {
    const secret = Symbol('secret')
    const value = { a: { b: 1 }, [secret]: 'kept by the caller only' }
    const { value: copy, frozen } = frozenCopy(value)
    expect(copy).toEqual({ a: { b: 1 } })
    expect(Object.getOwnPropertySymbols(copy)).toEqual([])
    expect(copy).toEqual(structuredClone(value))
    expect(frozen).toBe(true)
    expect(Object.isFrozen(copy.a)).toBe(true)
  })

  it('refuses values holding functions, toJSON included, rather than copy them wrong', () => {
    const value = { toJSON: () => 'replaced', x: 1 }
    expect(() => copyValue(value)).toThrow()
    const inner = { when: { toJSON: () => 'replaced' } }
    expect(() => copyValue(inner)).toThrow()
  })
})

describe('MemoryLayer with unshared entries', () => {
  it('keeps a freshly decoded value without copying it, frozen', () => {
    const layer = new MemoryLayer()
    const value = { a: { b: 1 } }
    const entry = markUnshared({ value, createdAt: 1, freshUntil: 2, swrUntil: 2, graceUntil: 2 })
    layer.set('k', entry, undefined)
    expect(layer.get('k')!.value).toBe(value)
    expect(Object.isFrozen(value.a)).toBe(true)
  })

  it('still copies values a caller handed in', () => {
    const layer = new MemoryLayer()
    const value = { a: { b: 1 } }
    layer.set('k', { value, createdAt: 1, freshUntil: 2, swrUntil: 2, graceUntil: 2 }, undefined)
    expect(layer.get('k')!.value).not.toBe(value)
    expect(Object.isFrozen(value)).toBe(false)
  })

  it('back-fills a Redis hit into memory as the same frozen value the caller received', async () => {
    const client = createTestRedis()
    const prefix = uniquePrefix('unshared')
    try {
      const writer = new CacheStack([new RedisLayer({ client, prefix })])
      await writer.set('k', { n: 1 })
      const reader = new CacheStack([new MemoryLayer(), new RedisLayer({ client, prefix })])
      const fromRedis = await reader.get<{ n: number }>('k')
      const fromMemory = await reader.get<{ n: number }>('k')
      expect(fromMemory).toBe(fromRedis)
      expect(Object.isFrozen(fromRedis)).toBe(true)
      await writer.disconnect()
      await reader.disconnect()
    } finally {
      await client.quit()
    }
  })
})

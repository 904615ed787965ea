import { CacheStack, MemoryLayer } from '@cachestack/core'
import { afterAll, describe, expect, it } from 'vitest'
import { cacheResolver } from './cache-resolver.ts'
import { invalidateResolver } from './invalidate-resolver.ts'
import { toPlainData } from './plain-data.ts'
import { typeTags } from './type-tags.ts'

const cache = new CacheStack([new MemoryLayer()])
afterAll(() => cache.disconnect())

describe('type tags', () => {
  it('tags a list with its type and each item, one object with its entity', () => {
    expect(typeTags('[Post!]!', [{ id: 1 }, { id: '2' }, { title: 'no id' }])).toEqual([
      'Post:list',
      'Post:1',
      'Post:2',
    ])
    expect(typeTags('User', { id: 'u1' })).toEqual(['User:u1'])
    expect(typeTags('[Node]', [{ id: 3, __typename: 'Comment' }])).toEqual(['Node:list', 'Comment:3'])
    expect(typeTags('Post', null)).toEqual([])
  })

  it('purges the lists of the type a mutation returns', () => {
    expect(typeTags('Post!', { id: 9 }, 'invalidate')).toEqual(['Post:list', 'Post:9'])
    expect(typeTags('Boolean!', true, 'invalidate')).toEqual(['Boolean:list'])
  })
})

describe('plain data', () => {
  it('copies class instances to plain objects and refuses what no layer can store, naming where', () => {
    class Row {
      readonly id: number
      constructor(id: number) {
        this.id = id
      }
      get label() {
        return `row ${this.id}`
      }
    }
    const when = new Date(0)
    expect(toPlainData([new Row(1), { when, skip: undefined }], 'r')).toEqual([{ id: 1 }, { when }])
    expect(() => toPlainData({ a: [{ f: () => 1 }] }, 'resolver Query.x')).toThrow(
      /resolver Query\.x returned a function at "\.a\[0\]\.f"/,
    )
    expect(() => toPlainData({ p: Promise.resolve(1) }, 'r')).toThrow(/returned a promise at "\.p"/)
  })
})

describe('options', () => {
  it('refuses unknown and wrong options with a ValidationError naming them', () => {
    const resolve = () => 1
    expect(() => cacheResolver(resolve, { cache, tll: '1m' } as never)).toThrow(
      /"tll" is not an option of cacheResolver\(\); did you mean "ttl"/,
    )
    expect(() => cacheResolver(resolve, { cache, scope: 'private' })).toThrow(
      expect.objectContaining({ option: 'session' }),
    )
    expect(() => cacheResolver(resolve, { cache, typeTags: 'yes' } as never)).toThrow(
      expect.objectContaining({ option: 'typeTags' }),
    )
    expect(() => invalidateResolver(resolve, { cache, tag: [] } as never)).toThrow(
      expect.objectContaining({ option: 'tag' }),
    )
    expect(() => cacheResolver('x' as never, { cache })).toThrow(
      expect.objectContaining({ option: 'resolver' }),
    )
  })
})

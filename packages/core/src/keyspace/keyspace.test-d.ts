import { describe, expectTypeOf, it } from 'vitest'
import {
  CacheStack,
  expireIn,
  type FloatKeyspace,
  type IntKeyspace,
  type ListKeyspace,
  type SetKeyspace,
  type StringKeyspace,
  type StructKeyspace,
} from '../index.ts'

const cache = new CacheStack()

describe('cache.keyspace types', () => {
  it('the kind picks the keyspace class; struct is the default', () => {
    expectTypeOf(cache.keyspace({ kind: 'string', pattern: 'a/:id' })).toEqualTypeOf<
      StringKeyspace<{ readonly id: string | number }>
    >()
    expectTypeOf(cache.keyspace({ kind: 'int', pattern: 'a/:id' })).toEqualTypeOf<
      IntKeyspace<{ readonly id: string | number }>
    >()
    expectTypeOf(cache.keyspace({ kind: 'float', pattern: 'a' })).toEqualTypeOf<
      FloatKeyspace<Record<string, never>>
    >()
    expectTypeOf(cache.keyspace({ pattern: 'p/:userId' })).toEqualTypeOf<
      StructKeyspace<{ readonly userId: string | number }>
    >()
    expectTypeOf(cache.keyspace({ kind: 'numberList', pattern: 'l/:id' })).toEqualTypeOf<
      ListKeyspace<{ readonly id: string | number }, number>
    >()
    expectTypeOf(cache.keyspace({ kind: 'stringSet', pattern: 's/:id' })).toEqualTypeOf<
      SetKeyspace<{ readonly id: string | number }, string>
    >()
  })

  it('an int keyspace refuses a string value', () => {
    const counters = cache.keyspace({
      kind: 'int',
      pattern: 'requests/:userId',
      defaultExpiry: expireIn(10_000),
    })
    expectTypeOf(counters.increment({ userId: 'u' }, 1)).toEqualTypeOf<Promise<number>>()
    // @ts-expect-error an int keyspace holds numbers
    counters.set({ userId: 'u' }, '3')
    // @ts-expect-error the amount is a number
    counters.increment({ userId: 'u' }, '1')
  })

  it('the pattern refuses a missing or an extra field', () => {
    const requests = cache.keyspace({ kind: 'int', pattern: 'requests/:userId/:path' })
    requests.increment({ userId: 'u', path: '/a' })
    // @ts-expect-error "path" is missing
    requests.increment({ userId: 'u' })
    // @ts-expect-error "other" is not a field of the pattern
    requests.increment({ userId: 'u', path: '/a', other: 1 })
    // @ts-expect-error a pattern without fields takes no field
    cache.keyspace({ kind: 'int', pattern: 'total' }).increment({ id: 1 })
  })

  it('each kind has only its own operations', () => {
    const counters = cache.keyspace({ kind: 'int', pattern: 'c/:id' })
    // @ts-expect-error lists are pushed, counters are not
    counters.pushLeft({ id: 1 }, 2)
    const names = cache.keyspace({ kind: 'stringList', pattern: 'n/:id' })
    // @ts-expect-error a string list holds strings
    names.pushRight({ id: 1 }, 2)
    // @ts-expect-error lists have no increment
    names.increment({ id: 1 })
  })

  it('withExpiry keeps the keyspace type', () => {
    const names = cache.keyspace({ kind: 'stringList', pattern: 'n/:id' })
    expectTypeOf(names.withExpiry(expireIn(1_000))).toEqualTypeOf(names)
  })

  it('struct values are typed with .of<T>()', () => {
    const profiles = cache.keyspace({ kind: 'struct', pattern: 'profile/:userId' }).of<{ name: string }>()
    expectTypeOf(profiles.get({ userId: 'u' })).toEqualTypeOf<Promise<{ name: string } | undefined>>()
    // @ts-expect-error name must be a string
    profiles.set({ userId: 'u' }, { name: 1 })
  })

  it('options are strict', () => {
    // @ts-expect-error "defaultExpiry", not "expiry"
    cache.keyspace({ kind: 'int', pattern: 'c/:id', expiry: expireIn(1) })
    // @ts-expect-error not a kind
    cache.keyspace({ kind: 'integer', pattern: 'c/:id' })
  })
})

import { describe, expectTypeOf, it } from 'vitest'
import { type CacheEvents, CacheStack, type FactoryContext } from './index.ts'

const cache = new CacheStack()

interface User {
  id: number
  name: string
}

describe('CacheStack generics', () => {
  it('getOrSet<T> answers Promise<T>, T inferred from the factory', () => {
    expectTypeOf(cache.getOrSet('n', () => 1)).toEqualTypeOf<Promise<number>>()
    expectTypeOf(cache.getOrSet('u', async (): Promise<User> => ({ id: 1, name: 'Ada' }))).toEqualTypeOf<
      Promise<User>
    >()
    expectTypeOf(cache.getOrSet<User>({ key: 'u', factory: () => ({ id: 1, name: 'Ada' }) })).toEqualTypeOf<
      Promise<User>
    >()
    cache.getOrSet<User>('u', (ctx) => {
      expectTypeOf(ctx).toEqualTypeOf<FactoryContext<User>>()
      expectTypeOf(ctx.gracedEntry?.value).toEqualTypeOf<User | undefined>()
      return { id: 1, name: 'Ada' }
    })
    // @ts-expect-error the factory must produce a T
    cache.getOrSet<User>('u', () => 'not a user')
  })

  it('get<T> answers Promise<T | undefined>', () => {
    expectTypeOf(cache.get<User>('u')).toEqualTypeOf<Promise<User | undefined>>()
    expectTypeOf(cache.get('u')).toEqualTypeOf<Promise<unknown>>()
    expectTypeOf(cache.getMany<User>(['a', 'b'])).toEqualTypeOf<Promise<(User | undefined)[]>>()
  })

  it('wrap keeps the argument and return types, made async', () => {
    const find = async (id: number, options: { deep: boolean }): Promise<User> => ({
      id,
      name: String(options),
    })
    const cachedFind = cache.wrap('user', find)
    expectTypeOf(cachedFind).parameters.toEqualTypeOf<[id: number, options: { deep: boolean }]>()
    expectTypeOf(cachedFind).returns.toEqualTypeOf<Promise<User>>()
    const add = (a: number, b: number) => a + b
    expectTypeOf(cache.wrap('add', add)).toEqualTypeOf<(a: number, b: number) => Promise<number>>()
    // @ts-expect-error the wrapped function still takes a number
    cachedFind('1', { deep: true })
  })

  it('types event payloads by event name', () => {
    cache.on('hit', ({ key, layer, stale }) => {
      expectTypeOf(key).toEqualTypeOf<string>()
      expectTypeOf(layer).toEqualTypeOf<string>()
      expectTypeOf(stale).toEqualTypeOf<boolean>()
    })
    cache.on('stale-serve', ({ reason }) => {
      expectTypeOf(reason).toEqualTypeOf<CacheEvents['stale-serve']['reason']>()
    })
    cache.on('backfill', (payload) => expectTypeOf(payload).toEqualTypeOf<CacheEvents['backfill']>())
    expectTypeOf(cache.on('miss', () => {})).toEqualTypeOf<CacheStack>()
    // @ts-expect-error a miss has no layer
    cache.on('miss', ({ layer }) => layer)
    // @ts-expect-error no such event
    cache.on('evicted', () => {})
  })
})

import { describe, expectTypeOf, it } from 'vitest'
import { CacheStack, type Duration, type FactoryContext, MemoryLayer, type Size } from './index.ts'

const cache = new CacheStack()

interface User {
  id: number
  name: string
}

describe('types infer from the factory, with or without ctx (issue 10)', () => {
  it('getOrSet: a factory naming ctx still infers T', () => {
    expectTypeOf(cache.getOrSet('k', async (ctx) => 1)).toEqualTypeOf<Promise<number>>()
    expectTypeOf(cache.getOrSet('k', (ctx) => ({ id: 1, name: ctx.key }))).toEqualTypeOf<
      Promise<{ id: number; name: string }>
    >()
    expectTypeOf(cache.getOrSet('k', async () => 1)).toEqualTypeOf<Promise<number>>()
    // The docs' own pattern: ctx.setTags / ctx.skip inside the factory.
    expectTypeOf(
      cache.getOrSet('k', async (ctx) => {
        ctx.setTags(['t'])
        return 'v'
      }),
    ).toEqualTypeOf<Promise<string>>()
    cache.getOrSet('k', (ctx) => {
      // An inferred factory's graced value is unknown, never any.
      expectTypeOf(ctx).toEqualTypeOf<FactoryContext<unknown>>()
      return 1
    })
    // An explicit T types ctx too.
    cache.getOrSet<User>('k', (ctx) => {
      expectTypeOf(ctx.gracedEntry?.value).toEqualTypeOf<User | undefined>()
      return { id: 1, name: 'Ada' }
    })
  })

  it('the object form and getOrSetForever infer too', () => {
    expectTypeOf(cache.getOrSet({ key: 'k', factory: async (ctx) => [ctx.key] })).toEqualTypeOf<
      Promise<string[]>
    >()
    expectTypeOf(cache.getOrSet({ key: 'k', ttl: '1m', factory: () => 1 })).toEqualTypeOf<Promise<number>>()
    expectTypeOf(cache.getOrSetForever('k', async (ctx) => true)).toEqualTypeOf<Promise<boolean>>()
  })

  it('get(key, fetcher) answers the fetcher type; get(key) answers T | undefined', () => {
    expectTypeOf(cache.get('k', async (ctx) => 1)).toEqualTypeOf<Promise<number>>()
    expectTypeOf(cache.get({ key: 'k', factory: async (ctx) => 'x' })).toEqualTypeOf<Promise<string>>()
    expectTypeOf(cache.get<User>('k')).toEqualTypeOf<Promise<User | undefined>>()
    expectTypeOf(cache.get('k')).toEqualTypeOf<Promise<unknown>>()
    expectTypeOf(cache.mget([{ key: 'a', fetch: async (ctx) => 1 }])).toEqualTypeOf<
      Promise<(number | undefined)[]>
    >()
  })

  it('wrap keeps argument and result types', () => {
    const wrapped = cache.wrap('user', async (id: number) => ({ id, name: 'Ada' }))
    expectTypeOf(wrapped).toEqualTypeOf<(id: number) => Promise<{ id: number; name: string }>>()
  })
})

describe('calls that can only fail at run time fail to compile', () => {
  it('getOrSet without a factory, set without a value, set(k, undefined)', () => {
    // @ts-expect-error a factory is required
    cache.getOrSet('k')
    // @ts-expect-error a factory is required in the object form too
    cache.getOrSet({ key: 'k' })
    // @ts-expect-error a value is required
    cache.set('k')
    // @ts-expect-error undefined cannot be stored (a miss reads as undefined)
    cache.set('k', undefined)
    const maybe = 1 as number | undefined
    // @ts-expect-error a maybe-undefined value cannot be stored either
    cache.set('k', maybe)
    // @ts-expect-error same for the object form
    cache.set({ key: 'k', value: undefined })
    // @ts-expect-error and for mset items
    cache.mset([{ key: 'k', value: undefined }])
    cache.set('k', null)
    cache.set('k', 0)
    cache.set('k', 1 as unknown)
  })

  it('durations and sizes are numbers or number+unit strings', () => {
    const ok: Duration[] = ['10s', '250ms', '2.5h', '1w', '10m', '1d', 250]
    const sizes: Size[] = ['100mb', '512kb', '1gb', '10b', 1024]
    // @ts-expect-error words are not a duration
    const words: Duration = 'ten seconds'
    // TypeScript's `${number}` lets a trailing space through ('10 s'); the run-time check refuses it.
    const spaced: Duration = '10 s'
    // @ts-expect-error units are lowercase ('5M': minutes or months?)
    const upper: Duration = '5M'
    // @ts-expect-error a string needs a unit
    const bare: Duration = '100'
    // @ts-expect-error size units are lowercase
    const big: Size = '100MB'
    expectTypeOf([ok, sizes, words, spaced, upper, bare, big]).not.toBeAny()
    // @ts-expect-error not a duration
    cache.set('k', 1, { ttl: 'ten seconds' })
    // @ts-expect-error not a duration
    new CacheStack(undefined, { grace: '5 minutes' })
    // @ts-expect-error not a size
    new MemoryLayer({ maxBytes: '100 megabytes' })
  })

  it('misspelt options are compile errors in object literals', () => {
    // @ts-expect-error tll is not an option
    new CacheStack(undefined, { tll: '5s' })
    // @ts-expect-error maxItem is not an option
    new MemoryLayer({ maxItem: 5 })
    // @ts-expect-error maxQueueSize is not an option
    new CacheStack(undefined, { writeStrategy: 'write-behind', writeBehind: { maxQueueSize: 100 } })
    new CacheStack(undefined, { fetcherRateLimit: { maxConcurrent: 4, scope: 'key' } })
  })
})

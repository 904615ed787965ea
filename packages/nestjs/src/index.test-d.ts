import { CacheStack, MemoryLayer } from '@cachestack/core'
import { describe, expectTypeOf, it } from 'vitest'
import { Cacheable, CacheStackModule, CacheTags, CacheTTL, InvalidateTags } from './index.ts'

const cache = new CacheStack()

describe('@cachestack/nestjs types', () => {
  it('forRoot takes a stack or the options of one, never both', () => {
    CacheStackModule.forRoot({ cache })
    CacheStackModule.forRoot({ layers: [new MemoryLayer()], ttl: '1m', http: { ttl: '30s' } })
    CacheStackModule.forRoot({ cache, stats: { authorize: () => true } }, true)
    // @ts-expect-error a stack option beside an existing stack
    CacheStackModule.forRoot({ cache, ttl: '1m' })
    // @ts-expect-error layers beside an existing stack
    CacheStackModule.forRoot({ cache, layers: [] })
    // @ts-expect-error the stats route must be authorized
    CacheStackModule.forRoot({ stats: { path: '/stats' } })
  })

  it('forRootAsync factories return what forRoot takes', () => {
    CacheStackModule.forRootAsync({ inject: ['CONFIG'], useFactory: async (_config: unknown) => ({ cache }) })
    CacheStackModule.forRootAsync({ useFactory: () => ({ layers: [new MemoryLayer()] }) })
  })

  it('decorators are method/class decorators with typed options', () => {
    expectTypeOf(Cacheable({ key: 'p', ttl: '1m' })).toEqualTypeOf<MethodDecorator>()
    expectTypeOf(InvalidateTags('posts')).toEqualTypeOf<MethodDecorator>()
    expectTypeOf(CacheTTL(1000)).toExtend<ClassDecorator>()
    expectTypeOf(CacheTags('a', 'b')).toExtend<MethodDecorator>()
    // @ts-expect-error a duration, not an object
    CacheTTL({ ms: 5 })
    // @ts-expect-error an unknown @Cacheable option
    Cacheable({ tag: ['x'] })
  })
})

import { CacheStack } from '@cachestack/core'
import { type Context, type Handler, Hono, type MiddlewareHandler } from 'hono'
import { describe, expectTypeOf, it } from 'vitest'
import { cache, statsRoute } from './index.ts'

const stack = new CacheStack()

describe('@cachestack/hono types', () => {
  it('gives callbacks the Hono context and the Response', () => {
    const app = new Hono()
    const middleware = cache({
      cache: stack,
      staleWhileRevalidate: '1m',
      tags: (c, res) => {
        expectTypeOf(c).toEqualTypeOf<Context>()
        expectTypeOf(res).toEqualTypeOf<Response>()
        return [`post:${c.req.param('id')}`]
      },
      invalidates: (c) => {
        expectTypeOf(c).toEqualTypeOf<Context>()
        return ['posts']
      },
      scope: 'private',
      session: (c) => c.req.header('cookie'),
      key: (c) => c.req.path,
    })
    expectTypeOf(middleware).toEqualTypeOf<MiddlewareHandler>()
    app.get('/posts/:id', middleware, (c) => c.json({}))
    expectTypeOf(statsRoute).returns.toEqualTypeOf<Handler>()
    statsRoute({ cache: stack, authorize: (c) => c.req.header('authorization') === 'Bearer x' })
  })

  it('refuses options of the wrong shape', () => {
    // @ts-expect-error the stack is required
    cache({ ttl: '1m' })
    // @ts-expect-error scope is 'public' or 'private'
    cache({ cache: stack, scope: 'shared' })
    // @ts-expect-error stale-while-revalidate needs no app any more: the option is gone
    cache({ cache: stack, app: {} })
  })
})

import { CacheStack } from '@cachestack/core'
import { initTRPC } from '@trpc/server'
import { describe, expectTypeOf, it } from 'vitest'
import { cacheMiddleware, invalidateMiddleware } from './index.ts'

const cache = new CacheStack()
interface Context {
  userId: string | undefined
}
const t = initTRPC.context<Context>().create()

describe('@cachestack/trpc types', () => {
  it('keeps the procedure input, context and output types through the middlewares', () => {
    const router = t.router({
      byId: t.procedure
        .input((raw) => raw as { id: number })
        .use(
          cacheMiddleware<Context, { id: number }, { id: number; title: string }>({
            cache,
            ttl: '1m',
            scope: 'private',
            session: (ctx) => {
              expectTypeOf(ctx).toEqualTypeOf<Context>()
              return ctx.userId
            },
            tags: (input, result) => [`post:${input.id}`, `title:${result.title}`],
          }),
        )
        .query(({ input, ctx }) => {
          expectTypeOf(input).toEqualTypeOf<{ id: number }>()
          expectTypeOf(ctx.userId).toEqualTypeOf<string | undefined>()
          return { id: input.id, title: 'x' }
        }),
      // After a middleware that adds to the context.
      authed: t.procedure
        .use(({ next, ctx }) => next({ ctx: { user: ctx.userId ?? 'anonymous' } }))
        .use(cacheMiddleware({ cache }))
        .query(({ ctx }) => ctx.user),
      rename: t.procedure
        .input((raw) => raw as { id: number; title: string })
        .use(invalidateMiddleware({ cache, tags: (input: { id: number }) => [`post:${input.id}`] }))
        .mutation(({ input }) => input),
    })
    type Outputs = { [K in keyof typeof router._def.procedures]: unknown }
    expectTypeOf<keyof Outputs>().toEqualTypeOf<'byId' | 'authed' | 'rename'>()
    expectTypeOf(router.createCaller({ userId: 'u' }).authed).returns.resolves.toEqualTypeOf<string>()
  })

  it('refuses options of the wrong shape at compile time', () => {
    // @ts-expect-error scope is 'public' | 'private'
    cacheMiddleware({ cache, scope: 'shared' })
    // @ts-expect-error tags of invalidateMiddleware are required
    invalidateMiddleware({ cache })
  })
})

import { CacheStack } from '@cachestack/core'
import type { Cache as EnvelopCache } from '@envelop/response-cache'
import type { ExecutionResult, GraphQLResolveInfo } from 'graphql'
import { describe, expectTypeOf, it } from 'vitest'
import { cacheResolver, invalidateResolver, responseCacheStore } from './index.ts'

const cache = new CacheStack()
interface Post {
  id: string
  authorId: string
}
interface Ctx {
  userId?: string
}

describe('@cachestack/graphql types', () => {
  it('returns a resolver of the same shape as the one it wraps', () => {
    const author = cacheResolver(
      async (post: Post, _args: { size?: number }, _ctx: Ctx) => ({ id: post.authorId }),
      {
        cache,
        key: (post) => {
          expectTypeOf(post).toEqualTypeOf<Post>()
          return post.authorId
        },
        session: (ctx) => {
          expectTypeOf(ctx).toEqualTypeOf<Ctx>()
          return ctx.userId
        },
        scope: 'private',
      },
    )
    expectTypeOf(author).parameters.toEqualTypeOf<[Post, { size?: number }, Ctx, GraphQLResolveInfo]>()
    expectTypeOf(author).returns.toEqualTypeOf<{ id: string } | Promise<{ id: string }>>()
    const create = invalidateResolver(
      (_: unknown, args: { title: string }) => ({ id: '1', title: args.title }),
      {
        cache,
        tags: (result) => [`Post:${result.id}`],
      },
    )
    expectTypeOf(create).returns.toEqualTypeOf<
      { id: string; title: string } | Promise<{ id: string; title: string }>
    >()
  })

  it('responseCacheStore is a Cache of @envelop/response-cache (and of Yoga’s plugin, which reads http headers from extensions)', () => {
    const store = responseCacheStore(cache, { prefix: 'r:', ttl: '5m' })
    expectTypeOf(store).toExtend<EnvelopCache>()
    type YogaGet = (
      key: string,
    ) => Promise<ExecutionResult<
      Record<string, unknown>,
      { http?: { headers?: Record<string, string> } }
    > | null>
    expectTypeOf(store.get).toExtend<YogaGet>()
    // @ts-expect-error a misspelt option is a type error too
    responseCacheStore(cache, { tll: '5m' })
  })
})

import { CacheStack } from '@cachestack/core'
import type { GraphQLResolveInfo } from 'graphql'
import { describe, expectTypeOf, it } from 'vitest'
import { cacheResolver, invalidateResolver } from './index.ts'

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
})

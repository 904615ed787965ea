import type { CacheStack } from '@cachestack/core'
import { cacheResolver, entityTag, invalidateResolver } from '@cachestack/graphql'
import type { AuthorsDb, Post, PostsDb } from './posts-db.ts'

export const typeDefs = /* GraphQL */ `
  type Author { id: ID!, name: String! }
  type Post { id: ID!, title: String!, author: Author! }
  type Query {
    posts: [Post!]!
    post(id: Int!): Post
    myDrafts: [Post!]!
  }
  type Mutation { createPost(title: String!): Post! }
`

/** Who is calling: the bearer token names the user (a stand-in for real authentication). */
export interface Context {
  user: string | undefined
}

/** Resolvers: cached root fields, a cached nested `Post.author`, private drafts, an invalidating creation. */
export function createResolvers(cache: CacheStack, posts: PostsDb, authors: AuthorsDb) {
  return {
    Query: {
      // Tagged Post:list and Post:<id> of every item (from the return type [Post!]!).
      posts: cacheResolver(() => posts.published(), { cache, ttl: '30s' }),
      post: cacheResolver(async (_: unknown, args: { id: number }) => (await posts.find(args.id)) ?? null, {
        cache,
        ttl: '1m',
        // "Not found" has no id of its own to tag: tag it by the argument.
        tags: (_post, args: { id: number }) => [entityTag('Post', args.id)],
      }),
      myDrafts: cacheResolver(
        (_: unknown, _args: unknown, ctx: Context) => (ctx.user ? posts.draftsOf(ctx.user) : []),
        { cache, ttl: '10s', scope: 'private', session: (ctx: Context) => ctx.user },
      ),
    },
    Post: {
      // Nested: one entry per author, shared by every post and every list that shows them.
      author: cacheResolver((post: Post) => authors.find(post.author), {
        cache,
        ttl: '5m',
        key: (post: Post) => post.author,
      }),
    },
    Mutation: {
      // Returns a Post: purges Post:list (every cached list) and Post:<id> before answering.
      createPost: invalidateResolver(
        (_: unknown, args: { title: string }, ctx: Context) => {
          if (!ctx.user) throw new Error('sign in to post')
          return posts.create(ctx.user, args.title)
        },
        { cache },
      ),
    },
  }
}

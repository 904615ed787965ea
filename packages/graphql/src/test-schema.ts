// The schema both real servers (graphql-yoga, Apollo Server) run in the tests: cached root and nested
// resolvers over a small in-memory store, a private field, a failing field and a creating mutation.
import type { CacheStack } from '@cachestack/core'
import { cacheResolver } from './cache-resolver.ts'
import { invalidateResolver } from './invalidate-resolver.ts'
import { entityTag } from './type-tags.ts'

export const typeDefs = /* GraphQL */ `
  type User { id: ID!, name: String! }
  type Post { id: ID!, title: String!, author: User! }
  type Me { user: String, secret: String! }
  type Query {
    posts: [Post!]!
    post(id: ID!): Post
    me: Me!
    flaky: String!
  }
  type Mutation { createPost(title: String!, authorId: ID!): Post! }
`

export interface TestContext {
  user: string | undefined
}

interface PostRow {
  id: string
  title: string
  authorId: string
}

/** Resolvers over a fresh store; `calls` counts resolver runs by field. */
export function createResolvers(cache: CacheStack, calls: Map<string, number>) {
  const count = (field: string) => calls.set(field, (calls.get(field) ?? 0) + 1)
  const slow = () => new Promise((resolve) => setTimeout(resolve, 5))
  const posts: PostRow[] = [
    { id: '1', title: 'One', authorId: 'u1' },
    { id: '2', title: 'Two', authorId: 'u2' },
    { id: '3', title: 'Three', authorId: 'u1' },
  ]
  const users = new Map([
    ['u1', { id: 'u1', name: 'Ada' }],
    ['u2', { id: 'u2', name: 'Grace' }],
  ])
  return {
    Query: {
      posts: cacheResolver(
        async () => {
          count('Query.posts')
          await slow()
          return posts.map((post) => ({ ...post }))
        },
        { cache, ttl: '1m' },
      ),
      post: cacheResolver(
        async (_parent: unknown, args: { id: string }) => {
          count('Query.post')
          await slow()
          const post = posts.find((p) => p.id === args.id)
          return post ? { ...post } : null
        },
        // A "not found" has no id to tag: the argument's entity tag lets a creation purge it.
        { cache, ttl: '1m', tags: (_result, args: { id: string }) => [entityTag('Post', args.id)] },
      ),
      me: cacheResolver(
        async (_parent: unknown, _args: unknown, context: TestContext) => {
          count('Query.me')
          await slow()
          return { user: context.user ?? null, secret: `secret of ${context.user ?? 'nobody'}` }
        },
        { cache, ttl: '1m', scope: 'private', session: (context: TestContext) => context.user },
      ),
      flaky: cacheResolver(
        () => {
          count('Query.flaky')
          // The first call after the counts are reset fails, the next one succeeds.
          if ((calls.get('Query.flaky') ?? 0) % 2 === 1) throw new Error('not yet')
          return 'found'
        },
        { cache, ttl: '1m' },
      ),
    },
    Post: {
      author: cacheResolver(
        async (parent: PostRow) => {
          count('Post.author')
          await slow()
          return users.get(parent.authorId)
        },
        { cache, ttl: '1m', key: (parent: PostRow) => parent.authorId },
      ),
    },
    Mutation: {
      createPost: invalidateResolver(
        async (_parent: unknown, args: { title: string; authorId: string }) => {
          count('Mutation.createPost')
          const post = { id: String(posts.length + 1), title: args.title, authorId: args.authorId }
          posts.push(post)
          return { ...post }
        },
        { cache },
      ),
    },
  }
}

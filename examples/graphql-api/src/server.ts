import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http'
import type { CacheStack } from '@cachestack/core'
import type { AuthorsDb, PostsDb } from './posts-db.ts'
import { type Context, createResolvers, typeDefs } from './schema.ts'

// graphql-yoga's types reference the DOM lib (through @whatwg-node/fetch), which redeclares ReadableStream
// without Node's ReadableStream.from and breaks the repository's type check: it is loaded by a computed
// specifier, with the part of its API used here typed below.
interface Yoga {
  createSchema(options: { typeDefs: string; resolvers: object }): unknown
  createYoga(options: {
    schema: unknown
    context: (initial: { request: Request }) => Context
    logging: boolean
  }): RequestListener
}

/** The Yoga server: `Authorization: Bearer <user>` names the caller; GraphQL at `/graphql`. */
export async function createServer(cache: CacheStack, posts: PostsDb, authors: AuthorsDb): Promise<Server> {
  const specifier = 'graphql-yoga'
  const { createSchema, createYoga } = (await import(specifier)) as Yoga
  const yoga = createYoga({
    schema: createSchema({ typeDefs, resolvers: createResolvers(cache, posts, authors) }),
    context: ({ request }) => ({
      user: /^Bearer (\w+)$/.exec(request.headers.get('authorization') ?? '')?.[1],
    }),
    logging: false,
  })
  return createHttpServer(yoga)
}

// A real graphql-yoga server with @graphql-yoga/plugin-response-cache on a cachestack store, and a
// keep-alive client, for the whole-response tests (response-cache-store.test.ts, two-tier).
import { Agent, createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { CacheStack } from '@cachestack/core'
import { invalidateResolver } from './invalidate-resolver.ts'
import { loadYoga, loadYogaResponseCache, type YogaResponseCacheModule } from './load-yoga.ts'
import { type ResponseCacheStoreOptions, responseCacheStore } from './response-cache-store.ts'

export const responseTypeDefs = /* GraphQL */ `
  type User { id: ID!, name: String! }
  type Post { id: ID!, title: String! }
  type Query {
    posts: [Post!]!
    post(id: ID!): Post
    me: User
    boom: String
  }
  type Mutation {
    renamePost(id: ID!, title: String!): Post!
    addPost(title: String!): Post!
  }
`

/** The data behind the schema, shared by every server of a test (one database, many instances). */
export interface ResponseData {
  posts: { id: string; title: string }[]
}

export function responseData(): ResponseData {
  return {
    posts: [
      { id: '1', title: 'One' },
      { id: '2', title: 'Two' },
    ],
  }
}

/** Plain resolvers (no cacheResolver): every run is counted by field in `calls`. */
function responseResolvers(cache: CacheStack, data: ResponseData, calls: Map<string, number>) {
  const count = (field: string) => calls.set(field, (calls.get(field) ?? 0) + 1)
  const copy = (post: { id: string; title: string }) => ({ ...post })
  return {
    Query: {
      posts: () => {
        count('Query.posts')
        return data.posts.map(copy)
      },
      post: (_: unknown, args: { id: string }) => {
        count('Query.post')
        const post = data.posts.find((p) => p.id === args.id)
        return post ? copy(post) : null
      },
      me: (_: unknown, _args: unknown, ctx: { request: Request }) => {
        count('Query.me')
        const user = ctx.request.headers.get('x-user')
        return user ? { id: user, name: `name of ${user}` } : null
      },
      boom: () => {
        count('Query.boom')
        throw new Error('boom')
      },
    },
    Mutation: {
      renamePost: (_: unknown, args: { id: string; title: string }) => {
        count('Mutation.renamePost')
        const post = data.posts.find((p) => p.id === args.id)
        if (!post) throw new Error('no such post')
        post.title = args.title
        return copy(post)
      },
      // Returns a Post: invalidateResolver purges Post:list, which every response holding a Post carries.
      addPost: invalidateResolver(
        (_: unknown, args: { title: string }) => {
          count('Mutation.addPost')
          const post = { id: String(data.posts.length + 1), title: args.title }
          data.posts.push(post)
          return copy(post)
        },
        { cache },
      ),
    },
  }
}

export interface ResponseApp {
  /** Resolver runs by field. */
  calls: Map<string, number>
  /** TCP connections the server accepted. */
  connections(): number
  /** One request on the client's single kept-alive connection. */
  gql: Gql
  /** One request on a pool of 16 kept-alive connections, for concurrent bursts. */
  parallel: Gql
  close(): Promise<void>
}

type Gql = (
  query: string,
  options?: { user?: string; headers?: Record<string, string> },
) => Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: any }>

type PluginOptions = Omit<Parameters<YogaResponseCacheModule['useResponseCache']>[0], 'session' | 'cache'>

/** Starts Yoga with the response-cache plugin on `responseCacheStore(cache, store)`; the session is `x-user`. */
export async function startResponseApp(
  cache: CacheStack,
  data: ResponseData,
  plugin: PluginOptions = {},
  store: ResponseCacheStoreOptions = {},
): Promise<ResponseApp> {
  const { createSchema, createYoga } = await loadYoga()
  const { useResponseCache } = await loadYogaResponseCache()
  const calls = new Map<string, number>()
  const yoga = createYoga({
    schema: createSchema({ typeDefs: responseTypeDefs, resolvers: responseResolvers(cache, data, calls) }),
    logging: false,
    maskedErrors: false,
    plugins: [
      useResponseCache({
        session: (req) => req.headers.get('x-user'),
        cache: responseCacheStore(cache, store),
        ...plugin,
      }),
    ],
  })
  const server = createServer(yoga)
  let connections = 0
  server.on('connection', () => connections++)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  // One socket, kept alive: every request of a test goes over the same connection, as a browser's would.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const pool = new Agent({ keepAlive: true, maxSockets: 16 })
  const client =
    (agent: Agent): Gql =>
    (query, options = {}) =>
      new Promise((resolve, reject) => {
        const body = JSON.stringify({ query })
        const req = request(
          {
            host: '127.0.0.1',
            port,
            path: '/graphql',
            method: 'POST',
            agent,
            headers: {
              'content-type': 'application/json',
              'content-length': String(Buffer.byteLength(body)),
              ...(options.user ? { 'x-user': options.user } : {}),
              ...options.headers,
            },
          },
          (res) => {
            const parts: Buffer[] = []
            res.on('data', (chunk: Buffer) => parts.push(chunk))
            res.on('error', reject)
            res.on('end', () => {
              const text = Buffer.concat(parts).toString('utf8')
              resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                body: text ? JSON.parse(text) : null,
              })
            })
          },
        )
        req.on('error', reject)
        req.end(body)
      })
  return {
    calls,
    connections: () => connections,
    gql: client(agent),
    parallel: client(pool),
    close: async () => {
      agent.destroy()
      pool.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

// The servers of the tRPC and GraphQL scenarios, each on its own port over the same 5 ms data source:
// a tRPC standalone server (a procedure behind @cachestack/trpc's cacheMiddleware and the same one
// uncached), and four graphql-yoga servers on one schema (the resolver behind @cachestack/graphql's
// cacheResolver, the uncached resolver behind Yoga's own response-cache plugin with its in-memory cache
// and with @cachestack/graphql's responseCacheStore, the uncached resolver).
import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CacheStack, MemoryLayer } from '@cachestack/core'
import { cacheResolver, responseCacheStore } from '@cachestack/graphql'
import { cacheMiddleware } from '@cachestack/trpc'
import { initTRPC } from '@trpc/server'
import { createHTTPServer } from '@trpc/server/adapters/standalone'
import { DB_MS } from './http-apps.ts'
import { makeValue } from './value.ts'

export type RpcRole =
  | 'trpc-cachestack'
  | 'trpc-plain'
  | 'gql-cachestack'
  | 'gql-yoga-cache'
  | 'gql-yoga-cachestack-store'
  | 'gql-plain'

/** A running server with the path of one call for key `k`, and its data-source calls. */
export interface RpcApp {
  role: RpcRole
  port: number
  path(k: string): string
  calls(): number
  close(): Promise<void>
}

// graphql-yoga's types reference the DOM lib (through @whatwg-node/fetch), which breaks the
// repository's type check on Node's ReadableStream: loaded by computed specifiers, typed here.
interface Yoga {
  createSchema(options: { typeDefs: string; resolvers: object }): unknown
  createYoga(options: { schema: unknown; logging: boolean; plugins?: unknown[] }): RequestListener
}
interface YogaResponseCache {
  useResponseCache(options: { session: () => null; ttl: number; cache?: unknown }): unknown
}

const TEN_MINUTES = 600_000
const typeDefs = /* GraphQL */ `
  type Item { id: ID!, payload: String! }
  type Query { item(k: String!): Item! }
`

function source() {
  let calls = 0
  return {
    calls: () => calls,
    async load(k: string) {
      calls++
      await new Promise((resolve) => setTimeout(resolve, DB_MS))
      return { id: k, payload: JSON.stringify(makeValue(2)) }
    },
  }
}

async function listen(server: Server): Promise<{ port: number; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

async function startTrpc(role: 'trpc-cachestack' | 'trpc-plain'): Promise<RpcApp> {
  const data = source()
  const cache = new CacheStack([new MemoryLayer()], { ttl: '10m' })
  const t = initTRPC.create()
  const input = t.procedure.input((raw) => raw as { k: string })
  const procedure = role === 'trpc-cachestack' ? input.use(cacheMiddleware({ cache, ttl: '10m' })) : input
  const router = t.router({ item: procedure.query(({ input: { k } }) => data.load(k)) })
  const running = await listen(createHTTPServer({ router }))
  return {
    role,
    port: running.port,
    path: (k) => `/item?input=${encodeURIComponent(JSON.stringify({ k }))}`,
    calls: data.calls,
    close: async () => {
      await running.close()
      await cache.disconnect()
    },
  }
}

async function startYoga(role: Exclude<RpcRole, 'trpc-cachestack' | 'trpc-plain'>): Promise<RpcApp> {
  const yogaModule = 'graphql-yoga'
  const pluginModule = '@graphql-yoga/plugin-response-cache'
  const { createSchema, createYoga } = (await import(yogaModule)) as Yoga
  const data = source()
  const cache = new CacheStack([new MemoryLayer()], { ttl: '10m' })
  const resolve = (_: unknown, args: { k: string }) => data.load(args.k)
  const item = role === 'gql-cachestack' ? cacheResolver(resolve, { cache, ttl: '10m' }) : resolve
  const plugins: unknown[] = []
  if (role === 'gql-yoga-cache' || role === 'gql-yoga-cachestack-store') {
    const { useResponseCache } = (await import(pluginModule)) as YogaResponseCache
    const store = role === 'gql-yoga-cachestack-store' ? { cache: responseCacheStore(cache) } : {}
    plugins.push(useResponseCache({ session: () => null, ttl: TEN_MINUTES, ...store }))
  }
  const yoga = createYoga({
    schema: createSchema({ typeDefs, resolvers: { Query: { item } } }),
    logging: false,
    plugins,
  })
  const running = await listen(createServer(yoga))
  return {
    role,
    port: running.port,
    path: (k) => `/graphql?query=${encodeURIComponent(`{ item(k: ${JSON.stringify(k)}) { id payload } }`)}`,
    calls: data.calls,
    close: async () => {
      await running.close()
      await cache.disconnect()
    },
  }
}

/** Starts the server of one role. */
export function startRpcApp(role: RpcRole): Promise<RpcApp> {
  return role === 'trpc-cachestack' || role === 'trpc-plain' ? startTrpc(role) : startYoga(role)
}

// graphql-yoga's types reference the DOM lib (through @whatwg-node/fetch), which redeclares
// ReadableStream without Node's `ReadableStream.from` and so breaks the repository's type check wherever
// Node streams are used. Loading it by a computed specifier keeps its types out of the program; this is
// the part of its API the tests use.
import type { RequestListener } from 'node:http'

/** The graphql-yoga functions the tests call. */
export interface YogaModule {
  createSchema(options: { typeDefs: string; resolvers: object }): unknown
  createYoga(options: {
    schema: unknown
    context?: (initial: { request: Request }) => unknown
    logging?: boolean
    maskedErrors?: boolean
    plugins?: unknown[]
  }): RequestListener
}

/** Loads graphql-yoga without its types. */
export async function loadYoga(): Promise<YogaModule> {
  const specifier = 'graphql-yoga'
  return (await import(specifier)) as YogaModule
}

/** The part of `@graphql-yoga/plugin-response-cache` the tests and the bench use. */
export interface YogaResponseCacheModule {
  useResponseCache(options: {
    session: (request: Request) => string | null | undefined
    cache?: unknown
    ttl?: number
    scopePerSchemaCoordinate?: Record<string, 'PRIVATE' | 'PUBLIC'>
    shouldCacheResult?: (params: { cacheKey: string; result: { errors?: readonly unknown[] } }) => boolean
    includeExtensionMetadata?: boolean
  }): unknown
}

/** Loads Yoga's response-cache plugin without its types (they import graphql-yoga's). */
export async function loadYogaResponseCache(): Promise<YogaResponseCacheModule> {
  const specifier = '@graphql-yoga/plugin-response-cache'
  return (await import(specifier)) as YogaResponseCacheModule
}

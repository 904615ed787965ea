// The real tRPC server the tests drive: the standalone adapter on a loopback port, a router with public,
// private and failing queries behind cacheMiddleware, and a mutation behind invalidateMiddleware.
import type { AddressInfo } from 'node:net'
import type { CacheStack } from '@cachestack/core'
import { initTRPC, TRPCError } from '@trpc/server'
import { createHTTPServer } from '@trpc/server/adapters/standalone'
import { cacheMiddleware } from './cache-middleware.ts'
import { invalidateMiddleware } from './invalidate-middleware.ts'
import { cacheResponseMeta } from './response-meta.ts'

export interface TestContext {
  user: string | undefined
}

const idInput = (raw: unknown): { id: number } => {
  const id = (raw as { id?: unknown } | undefined)?.id
  if (typeof id !== 'number') throw new Error('id must be a number')
  return { id }
}

/** Builds the router; `calls` counts resolver runs by name. */
export function createTestRouter(cache: CacheStack, calls: Map<string, number>) {
  const t = initTRPC.context<TestContext>().create()
  const count = (name: string) => calls.set(name, (calls.get(name) ?? 0) + 1)
  const slow = () => new Promise((resolve) => setTimeout(resolve, 5))
  return t.router({
    post: t.procedure
      .input(idInput)
      .use(cacheMiddleware({ cache, ttl: '1m', tags: (input) => [`post:${input.id}`] }))
      .query(async ({ input }) => {
        count('post')
        await slow()
        return { id: input.id, title: `Post ${input.id}` }
      }),
    me: t.procedure
      .use(cacheMiddleware<TestContext>({ cache, ttl: '1m', scope: 'private', session: (ctx) => ctx.user }))
      .query(async ({ ctx }) => {
        count('me')
        await slow()
        return { user: ctx.user ?? null, secret: `secret of ${ctx.user ?? 'nobody'}` }
      }),
    flaky: t.procedure.use(cacheMiddleware({ cache, ttl: '1m' })).query(async () => {
      count('flaky')
      // The first call after the counts are reset fails, the next one succeeds.
      if ((calls.get('flaky') ?? 0) % 2 === 1) {
        throw new TRPCError({ code: 'NOT_FOUND', message: 'not yet' })
      }
      return 'found'
    }),
    news: t.procedure.use(cacheMiddleware({ cache, ttl: '10s', staleWhileRevalidate: '1m' })).query(() => {
      count('news')
      return `edition ${calls.get('news')}`
    }),
    wrongPlace: t.procedure.use(cacheMiddleware({ cache, ttl: '1m' })).mutation(() => {
      count('wrongPlace')
      return 'ran'
    }),
    rename: t.procedure
      .input((raw) => raw as { id: number; title: string })
      .use(invalidateMiddleware({ cache, tags: (input: { id: number }) => [`post:${input.id}`] }))
      .mutation(({ input }) => {
        count('rename')
        if (input.title === '') throw new TRPCError({ code: 'BAD_REQUEST', message: 'empty title' })
        return input
      }),
  })
}

export type TestRouter = ReturnType<typeof createTestRouter>

/** Starts the standalone server; the user is the `x-user` request header. */
export async function startServer(cache: CacheStack, calls: Map<string, number>) {
  const router = createTestRouter(cache, calls)
  const server = createHTTPServer({
    router,
    createContext: ({ req }) => ({ user: (req.headers['x-user'] as string | undefined) || undefined }),
    responseMeta: cacheResponseMeta(),
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

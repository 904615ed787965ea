import type { CacheStack } from '@cachestack/core'
import { cacheMiddleware, invalidateMiddleware } from '@cachestack/trpc'
import { initTRPC, TRPCError } from '@trpc/server'
import type { PostsDb } from './posts-db.ts'

/** Who is calling: the bearer token names the user (a stand-in for real authentication). */
export interface Context {
  user: string | undefined
}

const byId = (raw: unknown): { id: number } => {
  const id = (raw as { id?: unknown } | null)?.id
  if (typeof id !== 'number' || !Number.isInteger(id)) throw new Error('"id" must be an integer')
  return { id }
}
const newPost = (raw: unknown): { title: string } => {
  const title = (raw as { title?: unknown } | null)?.title
  if (typeof title !== 'string' || title === '') throw new Error('"title" must be a non-empty string')
  return { title }
}

/** The API: public cached reads, a private per-user read, and a creation that purges the lists. */
export function createRouter(cache: CacheStack, db: PostsDb) {
  const t = initTRPC.context<Context>().create()
  return t.router({
    list: t.procedure
      .use(cacheMiddleware({ cache, ttl: '30s', tags: ['Post:list'] }))
      .query(() => db.published()),
    byId: t.procedure
      .input(byId)
      .use(cacheMiddleware({ cache, ttl: '1m', tags: (input: { id: number }) => [`Post:${input.id}`] }))
      .query(async ({ input }) => {
        const post = await db.find(input.id)
        if (!post) throw new TRPCError({ code: 'NOT_FOUND', message: `no post ${input.id}` })
        return post
      }),
    myDrafts: t.procedure
      .use(cacheMiddleware<Context>({ cache, ttl: '10s', scope: 'private', session: (ctx) => ctx.user }))
      .query(({ ctx }) => (ctx.user ? db.draftsOf(ctx.user) : [])),
    create: t.procedure
      .input(newPost)
      .use(
        invalidateMiddleware({
          cache,
          tags: (_input: unknown, post: { id: number }) => ['Post:list', `Post:${post.id}`],
        }),
      )
      .mutation(({ input, ctx }) => {
        if (!ctx.user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'sign in to post' })
        return db.create(ctx.user, input.title)
      }),
  })
}

/** The router's type, all the typed client needs. */
export type AppRouter = ReturnType<typeof createRouter>

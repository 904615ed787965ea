import type { CacheStack } from '@cachestack/core'
import cachestack from '@cachestack/fastify'
import Fastify, { type FastifyInstance } from 'fastify'
import { PostsDb } from './posts-db.ts'

/** Builds the API; `statsToken` protects `GET /cache/stats` (no token: the route always answers 403). */
export async function createApp(
  cache: CacheStack,
  statsToken?: string,
): Promise<{ app: FastifyInstance; db: PostsDb }> {
  const db = new PostsDb()
  const app = Fastify()
  await app.register(cachestack, {
    cache,
    ttl: '30s',
    staleWhileRevalidate: '1m',
    ignoreQuery: ['utm_*'],
    stats: {
      authorize: (request) => !!statsToken && request.headers.authorization === `Bearer ${statsToken}`,
    },
  })

  app.get<{ Querystring: { page?: string } }>(
    '/posts',
    { config: { cache: { tags: ['posts'] } } },
    async (request) => db.list(Number(request.query.page ?? 1)),
  )

  app.get<{ Params: { id: string } }>(
    '/posts/:id',
    { config: { cache: { tags: (request) => ['posts', `post:${(request.params as { id: string }).id}`] } } },
    async (request, reply) => {
      const post = await db.find(Number(request.params.id))
      return post ?? reply.code(404).send({ error: 'not found' })
    },
  )

  app.post<{ Body: { title?: string } }>(
    '/posts',
    { config: { cache: { invalidates: ['posts'] } } },
    async (request, reply) => {
      const title = request.body?.title?.trim()
      if (!title) return reply.code(400).send({ error: 'title is required' })
      return reply.code(201).send(await db.create(title))
    },
  )
  return { app, db }
}

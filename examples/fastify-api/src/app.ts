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
  // Meant to run behind a reverse proxy on the same host: `request.host` and `request.protocol` then come from
  // its X-Forwarded-Host/Proto. The cache keys those headers, so a forged one is stored apart and never
  // reaches other visitors (docs/http.md, Security).
  const app = Fastify({ trustProxy: '127.0.0.1' })
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
    async (request, reply) => {
      const page = Number(request.query.page ?? 1)
      // An absolute link built from the host and scheme the request came through: what poisoning targets.
      reply.header('link', `<${request.protocol}://${request.host}/posts?page=${page + 1}>; rel="next"`)
      return db.list(page)
    },
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

import type { CacheStack } from '@cachestack/core'
import { cache as cacheResponses, statsRoute } from '@cachestack/hono'
import { Hono } from 'hono'
import { PostsDb } from './posts-db.ts'

/** Builds the API; `statsToken` protects `GET /cache/stats` (no token: the route always answers 403). */
export function createApp(cache: CacheStack, statsToken?: string): { app: Hono; db: PostsDb } {
  const db = new PostsDb()
  const app = new Hono()
  const cached = cacheResponses({
    cache,
    ttl: '30s',
    staleWhileRevalidate: '1m',
    ignoreQuery: ['utm_*'],
    tags: (c) => (c.req.param('id') ? ['posts', `post:${c.req.param('id')}`] : ['posts']),
  })

  app.get('/posts', cached, async (c) => {
    const page = Number(c.req.query('page') ?? 1)
    // Hono has no trust-proxy setting: behind a proxy, a handler reads the forwarding headers itself. The
    // cache keys them, so a forged X-Forwarded-Host is stored apart and never reaches other visitors
    // (docs/http.md, Security).
    const url = new URL(c.req.url)
    const host = c.req.header('x-forwarded-host') ?? url.host
    const proto = c.req.header('x-forwarded-proto') ?? url.protocol.slice(0, -1)
    c.header('link', `<${proto}://${host}/posts?page=${page + 1}>; rel="next"`)
    return c.json(await db.list(page))
  })

  app.get('/posts/:id', cached, async (c) => {
    const post = await db.find(Number(c.req.param('id')))
    return post ? c.json(post) : c.json({ error: 'not found' }, 404)
  })

  app.post('/posts', cacheResponses({ cache, invalidates: ['posts'] }), async (c) => {
    const body = await c.req.json<{ title?: string }>().catch(() => ({ title: undefined }))
    const title = body.title?.trim()
    if (!title) return c.json({ error: 'title is required' }, 400)
    return c.json(await db.create(title), 201)
  })

  app.get(
    '/cache/stats',
    statsRoute({
      cache,
      authorize: (c) => !!statsToken && c.req.header('authorization') === `Bearer ${statsToken}`,
    }),
  )
  return { app, db }
}

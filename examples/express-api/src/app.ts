import type { CacheStack } from '@cachestack/core'
import { cacheResponses, healthRoute, statsRoute } from '@cachestack/express'
import express, { type Express } from 'express'
import { PostsDb } from './posts-db.ts'

/** Builds the API; `statsToken` protects `GET /cache/stats` (no token: the route always answers 403). */
export function createApp(cache: CacheStack, statsToken?: string): { app: Express; db: PostsDb } {
  const db = new PostsDb()
  const app = express()
  // Meant to run behind a reverse proxy on the same host (nginx, a load balancer's sidecar): `req.host` and
  // `req.protocol` then come from its X-Forwarded-Host/Proto. The cache keys those headers, so one request
  // carrying a forged X-Forwarded-Host is stored apart and never reaches other visitors (docs/http.md, Security).
  app.set('trust proxy', 'loopback')
  app.use(express.json())

  const cached = cacheResponses({
    cache,
    ttl: '30s',
    staleWhileRevalidate: '1m',
    ignoreQuery: ['utm_*'],
    tags: (req) => (req.params.id ? ['posts', `post:${req.params.id}`] : ['posts']),
  })

  app.get('/posts', cached, async (req, res) => {
    const page = Number(req.query.page ?? 1)
    // An absolute link built from the host and scheme the request came through: what poisoning targets.
    res.links({ next: `${req.protocol}://${req.host}/posts?page=${page + 1}` })
    res.json(await db.list(page))
  })

  app.get('/posts/:id', cached, async (req, res) => {
    const post = await db.find(Number(req.params.id))
    if (!post) return void res.status(404).json({ error: 'not found' })
    res.json(post)
  })

  app.post('/posts', cacheResponses({ cache, invalidates: ['posts'] }), async (req, res) => {
    const title = typeof req.body?.title === 'string' ? req.body.title.trim() : ''
    if (!title) return void res.status(400).json({ error: 'title is required' })
    res.status(201).json(await db.create(title))
  })

  app.get(
    '/cache/stats',
    statsRoute({
      cache,
      authorize: (req) => !!statsToken && req.headers.authorization === `Bearer ${statsToken}`,
    }),
  )
  // Kubernetes probes (docs/operations.md): readiness fails while Redis does not answer, liveness does not.
  app.get('/healthz/ready', healthRoute({ cache, probe: 'readiness' }))
  app.get('/healthz/live', healthRoute({ cache, probe: 'liveness' }))
  return { app, db }
}

import type { Server } from 'node:http'
import { describeRateLimitContract } from '@cachestack/core/testing'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { rateLimit } from './index.ts'

describeRateLimitContract('Hono', {
  supportsTrustProxy: false,
  async start(options) {
    const app = new Hono()
    app.get('/limited', rateLimit(options), (c) => c.text('ok'))
    app.get('/free', (c) => c.text('ok'))
    const server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server))
    })
    return { server, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
  },
})

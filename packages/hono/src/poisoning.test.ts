import type { Server } from 'node:http'
import { describeHttpPoisoningContract, type PoisoningHarness } from '@cachestack/core/testing'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { cache } from './index.ts'

const harness: PoisoningHarness = {
  async startPoisonable(app) {
    const hono = new Hono()
    if (app.options) hono.use('/page', cache({ cache: app.cache, ...app.options }))
    hono.get('/page', async (c) => {
      // Hono parses no body by itself: a handler that wants one reads it, as here.
      const text = await c.req.text()
      const body = app.render({
        method: c.req.method,
        origin: new URL(c.req.url).origin,
        url: c.req.url,
        path: c.req.path,
        query: c.req.queries(),
        body: text ? JSON.parse(text) : null,
        header: (name) => c.req.header(name),
      })
      return c.html(body)
    })
    const server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: hono.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server))
    })
    return { server, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
  },
}

describeHttpPoisoningContract('hono', harness)

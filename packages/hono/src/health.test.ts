import type { Server } from 'node:http'
import { describeHealthRouteContract } from '@cachestack/core/testing'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { startPausableRedis } from '../../../tools/test-services.ts'
import { healthRoute } from './index.ts'

describeHealthRouteContract(
  'hono',
  {
    async start(cache) {
      const app = new Hono()
      app.get('/ready', healthRoute({ cache, probe: 'readiness' }))
      app.get('/ready-degraded', healthRoute({ cache, probe: 'readiness', allowDegraded: true }))
      app.get('/live', healthRoute({ cache, probe: 'liveness' }))
      const server = await new Promise<Server>((resolve) => {
        const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server))
      })
      return { server, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
    },
  },
  { startRedis: startPausableRedis },
)

import type { Server } from 'node:http'
import { describeHealthRouteContract } from '@cachestack/core/testing'
import express from 'express'
import { startPausableRedis } from '../../../tools/test-services.ts'
import { healthRoute } from './index.ts'

describeHealthRouteContract(
  'express',
  {
    async start(cache) {
      const app = express()
      app.get('/ready', healthRoute({ cache, probe: 'readiness' }))
      app.get('/ready-degraded', healthRoute({ cache, probe: 'readiness', allowDegraded: true }))
      app.get('/live', healthRoute({ cache, probe: 'liveness' }))
      const server: Server = await new Promise((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s))
      })
      return { server, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
    },
  },
  { startRedis: startPausableRedis },
)

import { describeHealthRouteContract } from '@cachestack/core/testing'
import Fastify from 'fastify'
import { startPausableRedis } from '../../../tools/test-services.ts'
import { healthRoute } from './index.ts'

describeHealthRouteContract(
  'fastify',
  {
    async start(cache) {
      const app = Fastify()
      app.get('/ready', healthRoute({ cache, probe: 'readiness' }))
      app.get('/ready-degraded', healthRoute({ cache, probe: 'readiness', allowDegraded: true }))
      app.get('/live', healthRoute({ cache, probe: 'liveness' }))
      await app.listen({ port: 0, host: '127.0.0.1' })
      return { server: app.server, close: () => app.close() }
    },
  },
  { startRedis: startPausableRedis },
)

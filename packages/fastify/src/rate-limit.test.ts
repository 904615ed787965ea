import type { Server } from 'node:http'
import { describeRateLimitContract } from '@cachestack/core/testing'
import Fastify from 'fastify'
import { rateLimit } from './index.ts'

describeRateLimitContract('Fastify', {
  supportsTrustProxy: true,
  async start(options, trustProxy) {
    const server = Fastify(trustProxy ? { trustProxy: '127.0.0.1' } : {})
    server.get('/limited', { onRequest: rateLimit(options) }, async () => 'ok')
    server.get('/free', async () => 'ok')
    await server.listen({ port: 0, host: '127.0.0.1' })
    return { server: server.server as Server, close: () => server.close() }
  },
})

import type { CacheStack } from '@cachestack/core'
import { describeHttpPoisoningContract, type PoisoningHarness } from '@cachestack/core/testing'
import Fastify, { type FastifyRequest } from 'fastify'
import cachestack from './index.ts'

const harness: PoisoningHarness = {
  async startPoisonable(app) {
    const server = Fastify({ trustProxy: true })
    await server.register(cachestack, { cache: app.cache as CacheStack })
    server.get(
      '/page',
      { config: { cache: app.options ?? false } },
      async (request: FastifyRequest, reply) => {
        const q = request.url.indexOf('?')
        const body = app.render({
          method: request.method,
          origin: `${request.protocol}://${request.host}`,
          url: request.url,
          path: q === -1 ? request.url : request.url.slice(0, q),
          query: request.query,
          body: request.body ?? null,
          header: (name) => {
            const value = request.headers[name]
            return Array.isArray(value) ? value.join(', ') : value
          },
        })
        return reply.type('text/html; charset=utf-8').send(body)
      },
    )
    await server.listen({ port: 0, host: '127.0.0.1' })
    return { server: server.server, close: () => server.close() }
  },
}

describeHttpPoisoningContract('fastify', harness)

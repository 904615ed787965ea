import { Readable } from 'node:stream'
import {
  type ContractAnswer,
  describeHttpAdapterContract,
  type HttpAdapterHarness,
} from '@cachestack/core/testing'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import cachestack from './index.ts'

function write(reply: FastifyReply, answer: ContractAnswer): unknown {
  reply.code(answer.status)
  for (const [name, value] of answer.headers) reply.header(name, value)
  switch (answer.write) {
    case 'send':
      return reply.send(answer.body)
    case 'send-buffer':
      return reply.send(Buffer.from(answer.body))
    case 'stream':
      return reply.send(Readable.from(answer.chunks.map((chunk) => Buffer.from(chunk))))
    case 'hijack-end':
    case 'hijack-write': {
      // The handler takes the socket over: Fastify's hooks (onSend included) never see this answer.
      reply.hijack()
      reply.raw.writeHead(answer.status, Object.fromEntries(answer.headers))
      if (answer.write === 'hijack-end') return reply.raw.end(answer.body)
      for (const chunk of answer.chunks) reply.raw.write(chunk)
      return reply.raw.end()
    }
    default:
      throw new Error(`unknown write ${answer.write}`)
  }
}

const harness: HttpAdapterHarness = {
  oneCall: ['send', 'send-buffer'],
  manyWrites: ['stream'],
  aroundAdapter: ['hijack-end', 'hijack-write'],
  header: (req, name) => {
    const value = (req as FastifyRequest).headers[name]
    return Array.isArray(value) ? value.join(', ') : value
  },
  async startPoisonable(app) {
    const server = Fastify({ trustProxy: '127.0.0.1' })
    await server.register(cachestack, { cache: app.cache })
    server.get('/page', { config: { cache: app.options ?? false } }, async (request, reply) => {
      const q = request.url.indexOf('?')
      const body = app.render({
        method: request.method,
        origin: `${request.protocol}://${request.host}`,
        url: request.url,
        path: q === -1 ? request.url : request.url.slice(0, q),
        query: request.query,
        body: request.body ?? null,
        header: (name) => harness.header(request, name),
      })
      return reply.type('text/html; charset=utf-8').send(body)
    })
    await server.listen({ port: 0, host: '127.0.0.1' })
    return { server: server.server, close: () => server.close() }
  },
  async start(app) {
    const server = Fastify()
    await server.register(cachestack, {
      cache: app.cache,
      stats: { path: '/stats', authorize: app.authorize },
    })
    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      const answer = await app.handle({
        method: request.method,
        url: request.url,
        header: (name) => harness.header(request, name),
      })
      return write(reply, answer)
    }
    server.get('/c/*', { config: { cache: app.options } }, handler)
    server.post('/c/*', { config: { cache: app.mutationOptions } }, handler)
    await server.listen({ port: 0, host: '127.0.0.1' })
    return { server: server.server, close: () => server.close() }
  },
}

describeHttpAdapterContract('fastify', harness)

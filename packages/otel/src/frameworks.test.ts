import http from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { CacheStack } from '@cachestack/core'
import cachestack from '@cachestack/fastify'
import { cache as cacheResponses } from '@cachestack/hono'
import { serve } from '@hono/node-server'
import { SpanKind, trace } from '@opentelemetry/api'
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http'
import Fastify from 'fastify'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { instrumentCache } from './index.ts'
import { createTelemetry, parentId, useAsyncContext } from './telemetry.fixture.ts'

// Fastify and Hono report through the same core/http code as Express: cache.status on the server span.
const telemetry = createTelemetry()
const instrumentation = new HttpInstrumentation()
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })

beforeAll(() => {
  useAsyncContext()
  trace.setGlobalTracerProvider(telemetry.provider)
  instrumentation.setTracerProvider(telemetry.provider)
  instrumentation.enable()
  createRequire(import.meta.url)('node:http')
})
afterAll(async () => {
  agent.destroy()
  instrumentation.disable()
  await telemetry.shutdown()
})

async function product(id: string) {
  return trace.getTracer('app').startActiveSpan('db.query', async (span) => {
    await new Promise((resolve) => setImmediate(resolve))
    span.end()
    return { id }
  })
}

type Start = (cache: CacheStack) => Promise<{ port: number; close: () => Promise<void> }>

const frameworks: [string, Start][] = [
  [
    'Fastify',
    async (cache) => {
      const app = Fastify()
      await app.register(cachestack, { cache, ttl: '1m' })
      app.get<{ Params: { id: string } }>('/products/:id', { config: { cache: true } }, (request) =>
        product(request.params.id),
      )
      await app.listen({ port: 0, host: '127.0.0.1' })
      return { port: (app.server.address() as AddressInfo).port, close: () => app.close() }
    },
  ],
  [
    'Hono',
    async (cache) => {
      const app = new Hono()
      app.get('/products/:id', cacheResponses({ cache, ttl: '1m' }), async (c) =>
        c.json(await product(c.req.param('id'))),
      )
      const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
      await new Promise((resolve) => server.once('listening', resolve))
      return {
        port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
      }
    },
  ],
]

for (const [name, start] of frameworks) {
  describe(`${name} behind @opentelemetry/instrumentation-http`, () => {
    it('sets cache.status on the server span: miss, hit, bypass on one keep-alive connection', async () => {
      const cache = new CacheStack()
      const stop = instrumentCache(cache, { meter: telemetry.meter })
      const { port, close } = await start(cache)
      const sockets = new Set<unknown>()
      const get = (headers: Record<string, string> = {}) =>
        new Promise<string | undefined>((resolve, reject) => {
          const req = http.get(`http://127.0.0.1:${port}/products/${name}`, { agent, headers }, (res) => {
            sockets.add(req.socket)
            res.resume()
            res.on('end', () => resolve(res.headers['x-cache'] as string | undefined))
          })
          req.on('error', reject)
        })
      try {
        expect([await get(), await get(), await get({ authorization: 'Bearer x' })]).toEqual([
          'MISS',
          'HIT',
          'BYPASS',
        ])
        expect(sockets.size).toBe(1)
      } finally {
        stop()
        await close()
        await cache.disconnect()
      }
      await telemetry.provider.forceFlush()
      const servers = telemetry
        .spans()
        .filter(
          (span) => span.kind === SpanKind.SERVER && span.attributes['url.path'] === `/products/${name}`,
        )
      expect(servers.map((span) => span.attributes['cache.status'])).toEqual(['miss', 'hit', 'bypass'])
      const missRead = telemetry
        .spans()
        .find((span) => span.name === 'cache.get' && parentId(span) === servers[0]!.spanContext().spanId)
      expect(missRead?.attributes['cache.hit']).toBe(false)
      // Express and Hono run the handler inside the read's factory, so its spans are children of
      // cache.get; Fastify runs it in its own request lifecycle (the adapter captures the reply), so they
      // are its siblings under the server span. Either way one query, in the request's trace.
      const parent = name === 'Fastify' ? servers[0]! : missRead!
      const traceId = servers[0]!.spanContext().traceId
      const db = telemetry
        .spans()
        .filter((span) => span.name === 'db.query' && span.spanContext().traceId === traceId)
      expect(db.map((span) => parentId(span))).toEqual([parent.spanContext().spanId])
    })
  })
}

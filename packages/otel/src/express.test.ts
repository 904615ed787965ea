import http from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { CacheStack } from '@cachestack/core'
import { cacheResponses } from '@cachestack/express'
import { SpanKind, trace } from '@opentelemetry/api'
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http'
import type { ReadableSpan } from '@opentelemetry/sdk-trace'
import express from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { instrumentCache } from './index.ts'
import { createTelemetry, parentId, useAsyncContext } from './telemetry.fixture.ts'

// The real HTTP instrumentation makes the server spans; cachestack adds `cache.status` to them.
const telemetry = createTelemetry()
const instrumentation = new HttpInstrumentation()

describe('Express behind @opentelemetry/instrumentation-http', () => {
  let server: http.Server
  let base: string
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const cache = new CacheStack()
  let stop: () => void
  let queries = 0

  beforeAll(async () => {
    useAsyncContext()
    trace.setGlobalTracerProvider(telemetry.provider)
    instrumentation.setTracerProvider(telemetry.provider)
    instrumentation.enable()
    // The instrumentation patches `http` when it is next required; the test itself imported it as ESM.
    createRequire(import.meta.url)('node:http')
    stop = instrumentCache(cache, { meter: telemetry.meter })
    const app = express()
    const tracer = trace.getTracer('app')
    app.get('/products/:id', cacheResponses({ cache, ttl: '1m' }), async (req, res) => {
      const product = await tracer.startActiveSpan('db.query', async (span) => {
        queries++
        await new Promise((resolve) => setImmediate(resolve))
        span.end()
        return { id: req.params.id }
      })
      res.json(product)
    })
    server = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    stop()
    agent.destroy()
    await new Promise((resolve) => server.close(resolve))
    instrumentation.disable()
    await cache.disconnect()
    await telemetry.shutdown()
  })

  function get(path: string, headers: Record<string, string> = {}) {
    return new Promise<{ status: number; xCache: string | undefined; socket: unknown }>((resolve, reject) => {
      const req = http.get(`${base}${path}`, { agent, headers }, (res) => {
        res.resume()
        res.on('end', () =>
          resolve({ status: res.statusCode!, xCache: res.headers['x-cache'] as string, socket: req.socket }),
        )
      })
      req.on('error', reject)
    })
  }

  const serverSpans = () => telemetry.spans().filter((span) => span.kind === SpanKind.SERVER)
  const spansUnder = (parent: ReadableSpan) =>
    telemetry.spans().filter((span) => parentId(span) === parent.spanContext().spanId)

  it('sets cache.status on the server span: miss with the handler beneath the cache span, then hit, then bypass', async () => {
    const first = await get('/products/1')
    const second = await get('/products/1')
    const third = await get('/products/1', { authorization: 'Bearer x' })
    expect([first.xCache, second.xCache, third.xCache]).toEqual(['MISS', 'HIT', 'BYPASS'])
    // One keep-alive connection carried all three requests.
    expect(second.socket).toBe(first.socket)
    expect(third.socket).toBe(first.socket)
    expect(queries).toBe(2)
    await telemetry.provider.forceFlush()
    const servers = serverSpans()
    expect(servers.map((span) => span.attributes['cache.status'])).toEqual(['miss', 'hit', 'bypass'])
    const [miss, hit] = servers
    const missRead = spansUnder(miss!).find((span) => span.name === 'cache.get')!
    expect(missRead.attributes).toMatchObject({ 'cache.hit': false })
    const db = spansUnder(missRead).find((span) => span.name === 'db.query')
    expect(db).toBeDefined()
    const hitRead = spansUnder(hit!).find((span) => span.name === 'cache.get')!
    expect(hitRead.attributes).toMatchObject({ 'cache.hit': true, 'cache.layer': 'memory' })
    expect(spansUnder(hitRead)).toEqual([])
    // The bypassed request ran its handler straight under the server span.
    expect(spansUnder(servers[2]!).map((span) => span.name)).toEqual(['db.query'])
  })
})

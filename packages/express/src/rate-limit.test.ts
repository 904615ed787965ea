import type { Server } from 'node:http'
import { CacheStack, RedisLayer } from '@cachestack/core'
import { describeRateLimitContract, openClient } from '@cachestack/core/testing'
import express from 'express'
import { describe, expect, it } from 'vitest'
import { createTestRedis, uniquePrefix } from '../../../tools/test-redis.ts'
import { rateLimit } from './index.ts'

describeRateLimitContract('Express', {
  supportsTrustProxy: true,
  async start(options, trustProxy) {
    const app = express()
    if (trustProxy) app.set('trust proxy', 'loopback')
    app.get('/limited', rateLimit(options), (_req, res) => {
      res.send('ok')
    })
    app.get('/free', (_req, res) => {
      res.send('ok')
    })
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s))
    })
    return { server, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
  },
})

describe('Express rateLimit while Redis is down', () => {
  it("answers by onError: 'deny' is a 429 with Retry-After, 'allow' lets the request through", async () => {
    const client = createTestRedis()
    const cache = new CacheStack([
      new RedisLayer({ client, prefix: uniquePrefix('rl-down'), commandTimeout: 200 }),
    ])
    await cache.ready()
    const app = express()
    app.get('/deny', rateLimit({ cache, limit: 5, window: '1m', onError: 'deny' }), (_req, res) => {
      res.send('ok')
    })
    app.get('/allow', rateLimit({ cache, limit: 5, window: '1m' }), (_req, res) => {
      res.send('ok')
    })
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s))
    })
    const c = openClient('keep-alive agent', server)
    try {
      client.disconnect()
      const denied = await c.request('GET', '/deny')
      expect(denied.status).toBe(429)
      expect(denied.headers['retry-after']).toBe('1')
      const allowed = await c.request('GET', '/allow')
      expect(allowed.status).toBe(200)
      expect(allowed.text).toBe('ok')
    } finally {
      c.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await cache.disconnect()
    }
  })
})

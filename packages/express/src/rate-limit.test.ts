import type { Server } from 'node:http'
import { describeRateLimitContract } from '@cachestack/core/testing'
import express from 'express'
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

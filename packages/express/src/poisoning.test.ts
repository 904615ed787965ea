import type { Server } from 'node:http'
import { describeHttpPoisoningContract, type PoisoningHarness } from '@cachestack/core/testing'
import express, { type Request, type Response } from 'express'
import { cacheResponses } from './index.ts'

const harness: PoisoningHarness = {
  async startPoisonable(app) {
    const server = express()
    server.set('trust proxy', true)
    server.use(express.json())
    const handler = (req: Request, res: Response) => {
      const body = app.render({
        method: req.method,
        origin: `${req.protocol}://${req.host}`,
        url: req.originalUrl,
        path: req.path,
        query: req.query,
        body: req.body ?? null,
        header: (name) => req.get(name),
      })
      res.type('html').send(body)
    }
    if (app.options) server.get('/page', cacheResponses({ cache: app.cache, ...app.options }), handler)
    else server.get('/page', handler)
    const listening: Server = await new Promise((resolve) => {
      const s = server.listen(0, '127.0.0.1', () => resolve(s))
    })
    return {
      server: listening,
      close: () => new Promise<void>((resolve) => listening.close(() => resolve())),
    }
  },
}

describeHttpPoisoningContract('express', harness)

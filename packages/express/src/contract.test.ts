import type { Server } from 'node:http'
import { Readable } from 'node:stream'
import {
  type ContractAnswer,
  describeHttpAdapterContract,
  type HttpAdapterHarness,
  type StartedApp,
} from '@cachestack/core/testing'
import express, { type Express, type Request, type Response } from 'express'
import { cacheResponses, statsRoute } from './index.ts'

function write(res: Response, answer: ContractAnswer): void {
  res.status(answer.status)
  for (const [name, value] of answer.headers) res.setHeader(name, value)
  switch (answer.write) {
    case 'send':
      res.send(answer.body)
      return
    case 'send-buffer':
      res.send(Buffer.from(answer.body))
      return
    case 'end':
      res.end(answer.body)
      return
    case 'end-with-length':
      res.setHeader('content-length', Buffer.byteLength(answer.body))
      res.end(answer.body)
      return
    case 'write-head-end':
      res.writeHead(answer.status, Object.fromEntries(answer.headers))
      res.end(answer.body)
      return
    case 'write':
      for (const chunk of answer.chunks) res.write(chunk)
      res.end()
      return
    case 'flush-headers-write':
      // The event-stream idiom: headers out first, then the body as it comes.
      res.flushHeaders()
      for (const chunk of answer.chunks) res.write(chunk)
      res.end()
      return
    case 'pipe':
      Readable.from(answer.chunks.map((chunk) => Buffer.from(chunk))).pipe(res)
      return
    default:
      throw new Error(`unknown write ${answer.write}`)
  }
}

async function listen(app: Express): Promise<StartedApp> {
  const listening: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
  })
  return {
    server: listening,
    close: () => new Promise<void>((resolve) => listening.close(() => resolve())),
  }
}

const harness: HttpAdapterHarness = {
  oneCall: ['send', 'send-buffer', 'end', 'end-with-length', 'write-head-end'],
  manyWrites: ['write', 'pipe', 'flush-headers-write'],
  header: (req, name) => {
    const value = (req as Request).headers[name]
    return Array.isArray(value) ? value.join(', ') : value
  },
  async startPoisonable(app) {
    const server = express()
    server.set('trust proxy', 'loopback')
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
    return listen(server)
  },
  async start(app) {
    const server = express()
    const handler = async (req: Request, res: Response) => {
      const answer = await app.handle({
        method: req.method,
        url: req.originalUrl,
        header: (name) => harness.header(req, name),
      })
      write(res, answer)
    }
    // Express 5 hands a rejected promise to the error handler, so a throwing handler meets Express's own error page.
    server.get('/stats', statsRoute({ cache: app.cache, authorize: app.authorize }))
    server.get('/c/*rest', cacheResponses({ cache: app.cache, ...app.options }), handler)
    server.post('/c/*rest', cacheResponses({ cache: app.cache, ...app.mutationOptions }), handler)
    return listen(server)
  },
}

describeHttpAdapterContract('express', harness)

import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  type ContractAnswer,
  describeHttpAdapterContract,
  type HttpAdapterHarness,
  type StartedApp,
} from '@cachestack/core/testing'
import { serve } from '@hono/node-server'
import { type Context, Hono } from 'hono'
import { stream } from 'hono/streaming'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { cache, statsRoute } from './index.ts'

function write(c: Context, answer: ContractAnswer): Response | Promise<Response> {
  const status = answer.status as ContentfulStatusCode
  for (const [name, value] of answer.headers) c.header(name, value)
  c.status(status)
  switch (answer.write) {
    case 'body':
      return c.body(answer.body)
    case 'body-bytes':
      return c.body(new TextEncoder().encode(answer.body))
    case 'response':
      return new Response(answer.body, { status, headers: answer.headers as [string, string][] })
    case 'readable-stream':
      return c.body(ReadableStream.from(answer.chunks.map((chunk) => new TextEncoder().encode(chunk))))
    case 'stream-helper':
      return stream(c, async (out) => {
        for (const chunk of answer.chunks) await out.write(chunk)
      })
    default:
      throw new Error(`unknown write ${answer.write}`)
  }
}

async function listen(hono: Hono): Promise<StartedApp> {
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: hono.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server))
  })
  if (!(server.address() as AddressInfo | null)?.port) throw new Error('not listening')
  return { server, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

const harness: HttpAdapterHarness = {
  oneCall: ['body', 'body-bytes', 'response'],
  manyWrites: ['readable-stream', 'stream-helper'],
  header: (c, name) => (c as Context).req.header(name),
  async startPoisonable(app) {
    const hono = new Hono()
    if (app.options) hono.use('/page', cache({ cache: app.cache, ...app.options }))
    hono.get('/page', async (c) => {
      // Hono parses no body by itself: a handler that wants one reads it, as here.
      const text = await c.req.text()
      const body = app.render({
        method: c.req.method,
        origin: new URL(c.req.url).origin,
        url: c.req.url,
        path: c.req.path,
        query: c.req.queries(),
        body: text ? JSON.parse(text) : null,
        header: (name) => c.req.header(name),
      })
      return c.html(body)
    })
    return listen(hono)
  },
  async start(app) {
    const hono = new Hono()
    // Hono's default error handler logs every throw; the contract throws on purpose.
    hono.onError((_error, c) => c.text('Internal Server Error', 500))
    const handler = async (c: Context) => {
      const answer = await app.handle({
        method: c.req.method,
        url: c.req.url.slice(new URL(c.req.url).origin.length),
        header: (name) => c.req.header(name),
      })
      return write(c, answer)
    }
    hono.get('/stats', statsRoute({ cache: app.cache, authorize: app.authorize }))
    hono.get('/c/*', cache({ cache: app.cache, ...app.options }), handler)
    hono.post('/c/*', cache({ cache: app.cache, ...app.mutationOptions }), handler)
    return listen(hono)
  },
}

describeHttpAdapterContract('hono', harness)

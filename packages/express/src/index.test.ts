import { get, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'
import { CacheStack, MemoryLayer } from '@cachestack/core'
import compression from 'compression'
import express, { type Express, type Request } from 'express'
import request from 'supertest'
import { afterEach, describe, expect, it } from 'vitest'
import { type CacheResponsesOptions, cacheResponses, statsRoute } from './index.ts'

const servers: Server[] = []
afterEach(() => {
  for (const server of servers.splice(0)) server.close()
})

function listen(app: Express): Server {
  const server = app.listen(0)
  servers.push(server)
  return server
}

/** A plain request whose body is never decoded, so Content-Encoding is checked against the real bytes. */
function rawGet(server: Server, path: string, headers: Record<string, string>) {
  const { port } = server.address() as AddressInfo
  return new Promise<{ headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
    get({ port, path, headers }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (chunk: Buffer) => parts.push(chunk))
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(parts) }))
    }).on('error', reject)
  })
}

function makeStack() {
  const clock = { time: 1_700_000_000_000, now: () => clock.time }
  return { clock, cache: new CacheStack([new MemoryLayer()], { clock }) }
}

/** An app whose `GET /data` counts handler calls and answers through `answer`. */
function appWith(
  options: Partial<CacheResponsesOptions>,
  answer?: (req: Request, res: express.Response) => void,
) {
  const { cache, clock } = makeStack()
  const app = express()
  const counter = { calls: 0 }
  app.use(cacheResponses({ cache, ...options }))
  app.get('/data', (req, res) => {
    counter.calls++
    if (answer) return answer(req, res)
    res.json({ call: counter.calls, user: req.headers.cookie ?? req.headers.authorization ?? null })
  })
  return { app, server: listen(app), counter, cache, clock }
}

describe('cacheResponses (express)', () => {
  it('sorts the query, honours ignoreQuery and keys by host with port', async () => {
    const { server, counter } = appWith({ ignoreQuery: ['utm_*'] })
    await request(server).get('/data?a=1&b=2').expect(200)
    expect((await request(server).get('/data?b=2&a=1&utm_source=x')).headers['x-cache']).toBe('HIT')
    expect((await request(server).get('/data?a=1&b=3')).headers['x-cache']).toBe('MISS')
    expect((await request(server).get('/data?a=1&b=2').set('Host', 'other.test:81')).headers['x-cache']).toBe(
      'MISS',
    )
    expect((await request(server).get('/data?a=1&b=2').set('Host', 'other.test:82')).headers['x-cache']).toBe(
      'MISS',
    )
    expect(counter.calls).toBe(4)
  })

  for (const placement of ['before', 'after'] as const) {
    it(`never yields a wrong Content-Encoding with compression ${placement} the cache`, async () => {
      const { cache } = makeStack()
      const app = express()
      let calls = 0
      if (placement === 'before') app.use(compression({ threshold: 0 }))
      app.use(cacheResponses({ cache }))
      if (placement === 'after') app.use(compression({ threshold: 0 }))
      app.get('/data', (_req, res) => {
        calls++
        res.type('text/plain').send('hello compressed world '.repeat(20))
      })
      const server = listen(app)
      const expected = 'hello compressed world '.repeat(20)
      const raw = (encoding: string) => rawGet(server, '/data', { 'accept-encoding': encoding })
      for (const encoding of ['gzip', 'identity', 'gzip', 'identity']) {
        const { headers, body } = await raw(encoding)
        const res = { headers }
        if (encoding === 'gzip') {
          expect(res.headers['content-encoding']).toBe('gzip')
          expect(gunzipSync(body).toString()).toBe(expected)
        } else {
          expect(res.headers['content-encoding']).toBeUndefined()
          expect(body.toString()).toBe(expected)
        }
      }
      expect(calls).toBe(placement === 'before' ? 1 : 2)
    })
  }

  it('releases requests waiting on a key when the first client leaves and its handler gives up', async () => {
    const { server, counter } = appWith({}, (req, res) => {
      // The first call gives up on a gone client (a common streaming idiom) and never answers.
      if (counter.calls === 1) return void req.socket.once('close', () => {})
      res.json({ call: counter.calls })
    })
    const { port } = server.address() as AddressInfo
    let connections = 0
    server.on('connection', () => connections++)
    const first = get({ port, path: '/data' })
    first.on('error', () => {})
    await expect.poll(() => counter.calls, { timeout: 10_000 }).toBe(1)
    const second = rawGet(server, '/data', {})
    await expect.poll(() => connections, { timeout: 10_000 }).toBe(2)
    first.destroy()
    const answered = await second
    expect(JSON.parse(answered.body.toString())).toEqual({ call: 2 })
  })

  it('runs the handler once for 1,000 concurrent identical requests', async () => {
    const { server, counter } = appWith({}, (_req, res) => {
      setTimeout(() => res.json({ call: counter.calls }), 100)
    })
    const responses = await Promise.all(Array.from({ length: 1000 }, () => request(server).get('/data')))
    expect(counter.calls).toBe(1)
    expect(responses.every((r) => r.status === 200 && r.body.call === 1)).toBe(true)
  })
})

describe('statsRoute (express)', () => {
  it('answers 403 unless authorized, always with no-store and nosniff', async () => {
    const { cache } = makeStack()
    const app = express()
    app.get(
      '/stats',
      statsRoute({ cache, authorize: (req) => req.headers.authorization === 'Bearer s3cret' }),
    )
    const server = listen(app)
    const denied = await request(server).get('/stats').expect(403)
    const allowed = await request(server).get('/stats').set('Authorization', 'Bearer s3cret').expect(200)
    for (const res of [denied, allowed]) {
      expect(res.headers['cache-control']).toBe('no-store')
      expect(res.headers['x-content-type-options']).toBe('nosniff')
    }
    expect(allowed.body).toMatchObject({ hits: expect.any(Number), misses: expect.any(Number) })
    expect(() => statsRoute({ cache } as never)).toThrow(/authorize/)
  })
})

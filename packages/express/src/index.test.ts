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
  it('stores a miss and replays it with X-Cache, Age and a strong ETag; 304 on If-None-Match', async () => {
    const { server, counter, clock } = appWith({ ttl: '1m' })
    const miss = await request(server).get('/data').expect(200)
    expect(miss.headers['x-cache']).toBe('MISS')
    expect(miss.headers.etag).toMatch(/^"[\w-]+"$/)
    clock.time += 3_000
    const hit = await request(server).get('/data').expect(200)
    expect([hit.headers['x-cache'], hit.headers.age, hit.body.call]).toEqual(['HIT', '3', 1])
    expect(hit.headers.etag).toBe(miss.headers.etag)
    expect(hit.headers['content-type']).toMatch(/application\/json/)
    const notModified = await request(server).get('/data').set('If-None-Match', String(miss.headers.etag))
    expect(notModified.status).toBe(304)
    expect(notModified.text).toBe('')
    expect(counter.calls).toBe(1)
  })

  it('bypasses requests with cookies or Authorization in public scope: no cross-user leak', async () => {
    const { server, counter } = appWith({})
    await request(server).get('/data').expect(200)
    const alice = await request(server).get('/data').set('Cookie', 'sid=alice')
    const bob = await request(server).get('/data').set('Authorization', 'Bearer bob')
    expect([alice.headers['x-cache'], alice.body.user]).toEqual(['BYPASS', 'sid=alice'])
    expect([bob.headers['x-cache'], bob.body.user]).toEqual(['BYPASS', 'Bearer bob'])
    const again = await request(server).get('/data').set('Cookie', 'sid=alice')
    expect(again.body.call).toBe(4)
    expect(counter.calls).toBe(4)
  })

  it('keeps one entry per session with scope private', async () => {
    const session = (req: Request) => req.headers.cookie ?? req.headers.authorization
    const { server, counter } = appWith({ scope: 'private', session })
    const alice = await request(server).get('/data').set('Cookie', 'sid=alice')
    const bob = await request(server).get('/data').set('Authorization', 'Bearer bob')
    const alice2 = await request(server).get('/data').set('Cookie', 'sid=alice')
    const bob2 = await request(server).get('/data').set('Authorization', 'Bearer bob')
    expect([alice.body.user, bob.body.user]).toEqual(['sid=alice', 'Bearer bob'])
    expect([alice2.headers['x-cache'], alice2.body.user]).toEqual(['HIT', 'sid=alice'])
    expect([bob2.headers['x-cache'], bob2.body.user]).toEqual(['HIT', 'Bearer bob'])
    const anonymous = await request(server).get('/data')
    expect(anonymous.headers['x-cache']).toBe('BYPASS')
    expect(counter.calls).toBe(3)
  })

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

  it('answers HEAD from the GET entry without a body', async () => {
    const { server, counter } = appWith({})
    const get = await request(server).get('/data')
    const head = await request(server).head('/data')
    expect(head.headers['x-cache']).toBe('HIT')
    expect(head.headers['content-length']).toBe(get.headers['content-length'])
    expect(head.text ?? '').toBe('')
    expect(counter.calls).toBe(1)
  })

  it('never stores Set-Cookie, no-store, private, Vary: * or an uncovered Vary', async () => {
    const cases: [string, string][] = [
      ['set-cookie', 'a=1'],
      ['cache-control', 'no-store'],
      ['cache-control', 'private, max-age=60'],
      ['vary', '*'],
      ['vary', 'Origin'],
    ]
    for (const [name, value] of cases) {
      const { server, counter } = appWith({}, (_req, res) => {
        res.setHeader(name, value)
        res.send('secret')
      })
      await request(server).get('/data')
      const second = await request(server).get('/data')
      expect(second.headers['x-cache'], `${name}: ${value}`).toBe('MISS')
      expect(counter.calls, `${name}: ${value}`).toBe(2)
    }
  })

  it('stores a streamed body under the cap and streams an over-size one through unstored', async () => {
    const stream = (_req: Request, res: express.Response) => {
      res.setHeader('content-type', 'text/plain')
      res.write('chunk-1;')
      setTimeout(() => {
        res.write(Buffer.from('chunk-2;'))
        res.end('end')
      }, 5)
    }
    const small = appWith({}, stream)
    await request(small.server).get('/data').expect(200, 'chunk-1;chunk-2;end')
    const hit = await request(small.server).get('/data').expect(200, 'chunk-1;chunk-2;end')
    expect(hit.headers['x-cache']).toBe('HIT')
    const capped = appWith({ maxBodySize: 10 }, stream)
    await request(capped.server).get('/data').expect(200, 'chunk-1;chunk-2;end')
    const again = await request(capped.server).get('/data').expect(200, 'chunk-1;chunk-2;end')
    expect(again.headers['x-cache']).toBe('MISS')
    expect(capped.counter.calls).toBe(2)
  })

  it('does not store a body over maxBodySize written at once', async () => {
    const { server, counter } = appWith({ maxBodySize: '1kb' }, (_req, res) => {
      res.send('x'.repeat(2048))
    })
    expect((await request(server).get('/data')).text).toHaveLength(2048)
    expect((await request(server).get('/data')).text).toHaveLength(2048)
    expect(counter.calls).toBe(2)
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
    await expect.poll(() => counter.calls).toBe(1)
    const second = rawGet(server, '/data', {})
    await expect.poll(() => connections).toBe(2)
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

  it('purges tagged pages after a 2xx mutation, before the client reads, and not after an error', async () => {
    const { cache, clock } = makeStack()
    const app = express()
    const posts = ['first']
    let listCalls = 0
    app.use(express.json())
    app.get('/posts', cacheResponses({ cache, clock, tags: ['posts'] }), (req, res) => {
      listCalls++
      res.json({ page: req.query.page, posts })
    })
    app.post('/posts', cacheResponses({ cache, clock, invalidates: () => ['posts'] }), (req, res) => {
      if (!req.body?.title) return res.status(400).json({ error: 'title required' })
      posts.push(req.body.title)
      res.status(201).json({ ok: true })
    })
    const server = listen(app)
    await request(server).get('/posts?page=1')
    await request(server).get('/posts?page=2')
    await request(server).post('/posts').send({}).expect(400)
    expect((await request(server).get('/posts?page=1')).headers['x-cache']).toBe('HIT')
    await request(server).post('/posts').send({ title: 'second' }).expect(201)
    const page1 = await request(server).get('/posts?page=1')
    const page2 = await request(server).get('/posts?page=2')
    expect([page1.headers['x-cache'], page2.headers['x-cache']]).toEqual(['MISS', 'MISS'])
    expect(page1.body.posts).toEqual(['first', 'second'])
    expect(listCalls).toBe(4)
  })

  it('serves stale while one background request refreshes it', async () => {
    const { server, counter, clock } = appWith({ ttl: '10s', staleWhileRevalidate: '1m' })
    await request(server).get('/data')
    clock.time += 15_000
    const stale = await request(server).get('/data')
    expect([stale.headers['x-cache'], stale.body.call]).toEqual(['STALE', 1])
    await expect.poll(() => counter.calls).toBe(2)
    await expect.poll(async () => (await request(server).get('/data')).body.call).toBe(2)
    expect(counter.calls).toBe(2)
  })

  it('hides a throwing handler behind the stale response during grace', async () => {
    let fail = false
    const { server, counter, clock } = appWith({ ttl: '10s', grace: '1h' }, (_req, res) => {
      if (fail) throw new Error('database down')
      res.json({ call: counter.calls })
    })
    await request(server).get('/data').expect(200)
    fail = true
    clock.time += 60_000
    const graced = await request(server).get('/data').expect(200)
    expect([graced.headers['x-cache'], graced.body.call]).toEqual(['STALE', 1])
    clock.time += 2 * 3_600_000
    await request(server).get('/data').expect(500)
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

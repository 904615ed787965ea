import { Readable } from 'node:stream'
import { gunzipSync } from 'node:zlib'
import { CacheStack, MemoryLayer } from '@cachestack/core'
import compress from '@fastify/compress'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import { describe, expect, it } from 'vitest'
import cachestack, { type CachePluginOptions, cachestack as named, type RouteCacheOptions } from './index.ts'

function makeStack() {
  const clock = { time: 1_700_000_000_000, now: () => clock.time }
  return { clock, cache: new CacheStack([new MemoryLayer()], { clock }) }
}

type Answer = (request: FastifyRequest, reply: FastifyReply) => unknown

/** An app whose `GET /data` counts handler calls; `route` are the route's cache options. */
async function appWith(
  route: RouteCacheOptions | true = true,
  answer?: Answer,
  plugin: Partial<CachePluginOptions> = {},
) {
  const { cache, clock } = makeStack()
  const app = Fastify()
  const counter = { calls: 0 }
  await app.register(cachestack, { cache, ...plugin })
  app.get('/data', { config: { cache: route } }, async (request, reply) => {
    counter.calls++
    if (answer) return answer(request, reply)
    return { call: counter.calls, user: request.headers.cookie ?? request.headers.authorization ?? null }
  })
  await app.ready()
  return { app, counter, cache, clock }
}

describe('cachestack plugin (fastify)', () => {
  it('is exported by default and by name, and decorates fastify.cache', async () => {
    expect(named).toBe(cachestack)
    const { app, cache } = await appWith()
    expect(app.cache).toBe(cache)
  })

  it('fails fast on bad options, naming the option', async () => {
    const { cache } = makeStack()
    const app = Fastify()
    await app.register(cachestack, { cache })
    expect(() => app.get('/x', { config: { cache: { ttl: 'soon' as never } } }, async () => 'x')).toThrow(
      /ttl/,
    )
  })

  it('stores a miss and replays it with X-Cache, Age and a strong ETag; 304 on If-None-Match', async () => {
    const { app, counter, clock } = await appWith({ ttl: '1m' })
    const miss = await app.inject('/data')
    expect(miss.headers['x-cache']).toBe('MISS')
    clock.time += 4_000
    const hit = await app.inject('/data')
    expect([hit.headers['x-cache'], hit.headers.age, hit.json().call]).toEqual(['HIT', '4', 1])
    expect(hit.headers.etag).toBe(miss.headers.etag)
    expect(hit.headers['content-type']).toMatch(/application\/json/)
    const notModified = await app.inject({
      url: '/data',
      headers: { 'if-none-match': String(miss.headers.etag) },
    })
    expect([notModified.statusCode, notModified.body]).toEqual([304, ''])
    expect(counter.calls).toBe(1)
  })

  it('ignores routes without config.cache', async () => {
    const { cache } = makeStack()
    const app = Fastify()
    await app.register(cachestack, { cache })
    let calls = 0
    app.get('/plain', async () => ({ calls: ++calls }))
    await app.inject('/plain')
    const second = await app.inject('/plain')
    expect([second.headers['x-cache'], calls]).toEqual([undefined, 2])
  })

  it('bypasses requests with cookies or Authorization in public scope: no cross-user leak', async () => {
    const { app, counter } = await appWith()
    await app.inject('/data')
    const alice = await app.inject({ url: '/data', headers: { cookie: 'sid=alice' } })
    const bob = await app.inject({ url: '/data', headers: { authorization: 'Bearer bob' } })
    expect([alice.headers['x-cache'], alice.json().user]).toEqual(['BYPASS', 'sid=alice'])
    expect([bob.headers['x-cache'], bob.json().user]).toEqual(['BYPASS', 'Bearer bob'])
    expect(counter.calls).toBe(3)
  })

  it('keeps one entry per session with scope private', async () => {
    const session = (request: FastifyRequest) => request.headers.cookie ?? request.headers.authorization
    const { app, counter } = await appWith({ scope: 'private', session })
    const get = (headers: Record<string, string>) => app.inject({ url: '/data', headers })
    await get({ cookie: 'sid=alice' })
    await get({ authorization: 'Bearer bob' })
    const alice = await get({ cookie: 'sid=alice' })
    const bob = await get({ authorization: 'Bearer bob' })
    expect([alice.headers['x-cache'], alice.json().user]).toEqual(['HIT', 'sid=alice'])
    expect([bob.headers['x-cache'], bob.json().user]).toEqual(['HIT', 'Bearer bob'])
    expect((await app.inject('/data')).headers['x-cache']).toBe('BYPASS')
    expect(counter.calls).toBe(3)
  })

  it('sorts the query, honours ignoreQuery and keys by host with port', async () => {
    const { app, counter } = await appWith({ ignoreQuery: ['utm_*'] })
    await app.inject('/data?a=1&b=2')
    expect((await app.inject('/data?b=2&utm_campaign=x&a=1')).headers['x-cache']).toBe('HIT')
    expect((await app.inject('/data?a=2&b=2')).headers['x-cache']).toBe('MISS')
    const other = await app.inject({ url: '/data?a=1&b=2', headers: { host: 'other.test:8080' } })
    expect(other.headers['x-cache']).toBe('MISS')
    expect(counter.calls).toBe(3)
  })

  it('answers HEAD from the GET entry without a body', async () => {
    const { app, counter } = await appWith()
    const get = await app.inject('/data')
    const head = await app.inject({ method: 'HEAD', url: '/data' })
    expect([head.headers['x-cache'], head.body]).toEqual(['HIT', ''])
    expect(head.headers['content-length']).toBe(get.headers['content-length'])
    expect(counter.calls).toBe(1)
  })

  it('never stores Set-Cookie, no-store, private, Vary: * or an uncovered Vary', async () => {
    for (const [name, value] of [
      ['set-cookie', 'a=1'],
      ['cache-control', 'no-store'],
      ['cache-control', 'private'],
      ['vary', '*'],
      ['vary', 'Origin'],
    ] as const) {
      const { app, counter } = await appWith(true, (_request, reply) =>
        reply.header(name, value).send('secret'),
      )
      await app.inject('/data')
      expect((await app.inject('/data')).headers['x-cache'], `${name}: ${value}`).toBe('MISS')
      expect(counter.calls).toBe(2)
    }
  })

  it('stores a streamed body under the cap and streams an over-size one through unstored', async () => {
    const stream: Answer = (_request, reply) =>
      reply.type('text/plain').send(Readable.from([Buffer.from('chunk-1;'), Buffer.from('chunk-2;'), 'end']))
    const small = await appWith(true, stream)
    expect((await small.app.inject('/data')).body).toBe('chunk-1;chunk-2;end')
    const hit = await small.app.inject('/data')
    expect([hit.headers['x-cache'], hit.body]).toEqual(['HIT', 'chunk-1;chunk-2;end'])
    const capped = await appWith({ maxBodySize: 10 }, stream)
    expect((await capped.app.inject('/data')).body).toBe('chunk-1;chunk-2;end')
    const again = await capped.app.inject('/data')
    expect([again.headers['x-cache'], again.body]).toEqual(['MISS', 'chunk-1;chunk-2;end'])
    expect(capped.counter.calls).toBe(2)
  })

  it('does not store a body over maxBodySize', async () => {
    const { app, counter } = await appWith({ maxBodySize: '1kb' }, () => 'x'.repeat(2048))
    expect((await app.inject('/data')).body).toHaveLength(2048)
    expect((await app.inject('/data')).body).toHaveLength(2048)
    expect(counter.calls).toBe(2)
  })

  for (const placement of ['before', 'after'] as const) {
    it(`never yields a wrong Content-Encoding with @fastify/compress registered ${placement} the plugin`, async () => {
      const { cache } = makeStack()
      const app = Fastify()
      let calls = 0
      if (placement === 'before') await app.register(compress, { threshold: 0 })
      await app.register(cachestack, { cache })
      if (placement === 'after') await app.register(compress, { threshold: 0 })
      const text = 'hello compressed world '.repeat(20)
      app.get('/data', { config: { cache: true } }, async (_request, reply) => {
        calls++
        return reply.type('text/plain').send(text)
      })
      for (const [i, encoding] of ['gzip', 'identity', 'gzip', 'identity'].entries()) {
        const res = await app.inject({ url: '/data', headers: { 'accept-encoding': encoding } })
        if (i >= 2) expect(res.headers['x-cache']).toBe('HIT')
        if (encoding === 'gzip') {
          expect(res.headers['content-encoding']).toBe('gzip')
          expect(gunzipSync(res.rawPayload).toString()).toBe(text)
        } else {
          expect(res.headers['content-encoding']).toBeUndefined()
          expect(res.body).toBe(text)
        }
      }
      // @fastify/compress compresses per route after the plugin's hook either way, so one entry serves both.
      expect(calls).toBe(1)
    })
  }

  it('runs the handler once for 1,000 concurrent identical requests', async () => {
    const { app, counter } = await appWith(true, async () => {
      await new Promise((r) => setTimeout(r, 100))
      return { call: counter.calls }
    })
    const responses = await Promise.all(Array.from({ length: 1000 }, () => app.inject('/data')))
    expect(counter.calls).toBe(1)
    expect(responses.every((r) => r.statusCode === 200 && r.json().call === 1)).toBe(true)
  })

  it('purges tagged pages after a 2xx mutation and not after an error', async () => {
    const { cache } = makeStack()
    const app = Fastify()
    await app.register(cachestack, { cache })
    const posts = ['first']
    let listCalls = 0
    app.get('/posts', { config: { cache: { tags: ['posts'] } } }, async (request) => {
      listCalls++
      return { page: (request.query as { page?: string }).page, posts }
    })
    app.post('/posts', { config: { cache: { invalidates: () => ['posts'] } } }, async (request, reply) => {
      const title = (request.body as { title?: string } | undefined)?.title
      if (!title) return reply.code(400).send({ error: 'title required' })
      posts.push(title)
      return reply.code(201).send({ ok: true })
    })
    await app.inject('/posts?page=1')
    await app.inject('/posts?page=2')
    expect((await app.inject({ method: 'POST', url: '/posts', payload: {} })).statusCode).toBe(400)
    expect((await app.inject('/posts?page=1')).headers['x-cache']).toBe('HIT')
    await app.inject({ method: 'POST', url: '/posts', payload: { title: 'second' } })
    const page1 = await app.inject('/posts?page=1')
    const page2 = await app.inject('/posts?page=2')
    expect([page1.headers['x-cache'], page2.headers['x-cache']]).toEqual(['MISS', 'MISS'])
    expect(page1.json().posts).toEqual(['first', 'second'])
    expect(listCalls).toBe(4)
  })

  it('serves stale while one background request refreshes it', async () => {
    const { app, counter, clock } = await appWith({ ttl: '10s', staleWhileRevalidate: '1m' })
    await app.inject('/data')
    clock.time += 15_000
    const stale = await app.inject('/data')
    expect([stale.headers['x-cache'], stale.json().call]).toEqual(['STALE', 1])
    await expect.poll(() => counter.calls).toBe(2)
    await expect.poll(async () => (await app.inject('/data')).json().call).toBe(2)
    expect(counter.calls).toBe(2)
  })

  it('hides a throwing handler behind the stale response during grace', async () => {
    let fail = false
    const { app, clock, counter } = await appWith({ ttl: '10s', grace: '1h' }, () => {
      if (fail) throw new Error('database down')
      return { call: counter.calls }
    })
    await app.inject('/data')
    fail = true
    clock.time += 60_000
    const graced = await app.inject('/data')
    expect([graced.statusCode, graced.headers['x-cache'], graced.json().call]).toEqual([200, 'STALE', 1])
    clock.time += 2 * 3_600_000
    expect((await app.inject('/data')).statusCode).toBe(500)
  })

  it('mounts the stats route: 403 unless authorized, always no-store and nosniff', async () => {
    const authorize = (request: FastifyRequest) => request.headers.authorization === 'Bearer s3cret'
    const { app } = await appWith(true, undefined, { stats: { authorize } })
    const denied = await app.inject('/cache/stats')
    const allowed = await app.inject({ url: '/cache/stats', headers: { authorization: 'Bearer s3cret' } })
    expect([denied.statusCode, allowed.statusCode]).toEqual([403, 200])
    for (const res of [denied, allowed]) {
      expect(res.headers['cache-control']).toBe('no-store')
      expect(res.headers['x-content-type-options']).toBe('nosniff')
    }
    expect(allowed.json()).toMatchObject({ hits: expect.any(Number) })
  })
})

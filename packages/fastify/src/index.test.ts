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

  it('sorts the query, honours ignoreQuery and keys by host with port', async () => {
    const { app, counter } = await appWith({ ignoreQuery: ['utm_*'] })
    await app.inject('/data?a=1&b=2')
    expect((await app.inject('/data?b=2&utm_campaign=x&a=1')).headers['x-cache']).toBe('HIT')
    expect((await app.inject('/data?a=2&b=2')).headers['x-cache']).toBe('MISS')
    const other = await app.inject({ url: '/data?a=1&b=2', headers: { host: 'other.test:8080' } })
    expect(other.headers['x-cache']).toBe('MISS')
    expect(counter.calls).toBe(3)
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

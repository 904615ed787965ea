import { gunzipSync } from 'node:zlib'
import { CacheStack, MemoryLayer } from '@cachestack/core'
import { type Context, Hono } from 'hono'
import { compress } from 'hono/compress'
import { describe, expect, it } from 'vitest'
import { type CacheOptions, cache, statsRoute } from './index.ts'

function makeStack() {
  const clock = { time: 1_700_000_000_000, now: () => clock.time }
  return { clock, stack: new CacheStack([new MemoryLayer()], { clock }) }
}

/** Response bodies in these tests are JSON objects of known shape. */
const json = async (res: Response): Promise<any> => res.json()

type Answer = (c: Context) => Response | Promise<Response>

/** An app whose `GET /data` counts handler calls and answers through `answer`. */
function appWith(options: Partial<CacheOptions> = {}, answer?: Answer) {
  const { stack, clock } = makeStack()
  const app = new Hono()
  const counter = { calls: 0 }
  app.use('/data', cache({ cache: stack, ...options }))
  app.get('/data', (c) => {
    counter.calls++
    if (answer) return answer(c)
    return c.json({
      call: counter.calls,
      user: c.req.header('cookie') ?? c.req.header('authorization') ?? null,
    })
  })
  return { app, counter, stack, clock }
}

describe('cache middleware (hono)', () => {
  it('sorts the query, honours ignoreQuery and keys by host with port', async () => {
    const { app, counter } = appWith({ ignoreQuery: ['utm_*', 'fbclid'] })
    await app.request('/data?a=1&b=2')
    expect((await app.request('/data?fbclid=z&b=2&a=1')).headers.get('x-cache')).toBe('HIT')
    expect((await app.request('/data?a=1')).headers.get('x-cache')).toBe('MISS')
    expect((await app.request('http://other.test:8080/data?a=1&b=2')).headers.get('x-cache')).toBe('MISS')
    expect((await app.request('http://other.test:8081/data?a=1&b=2')).headers.get('x-cache')).toBe('MISS')
    expect(counter.calls).toBe(4)
  })

  for (const placement of ['before', 'after'] as const) {
    it(`never yields a wrong Content-Encoding with compress ${placement} the cache`, async () => {
      const { stack, clock } = makeStack()
      const app = new Hono()
      let calls = 0
      if (placement === 'before') app.use(compress({ threshold: 0 }))
      app.use(cache({ cache: stack, clock }))
      if (placement === 'after') app.use(compress({ threshold: 0 }))
      const text = 'hello compressed world '.repeat(20)
      app.get('/data', (c) => {
        calls++
        return c.text(text)
      })
      for (const [i, encoding] of ['gzip', 'identity', 'gzip', 'identity'].entries()) {
        const res = await app.request('/data', { headers: { 'accept-encoding': encoding } })
        if (i >= 2) expect(res.headers.get('x-cache')).toBe('HIT')
        const body = Buffer.from(await res.arrayBuffer())
        if (encoding === 'gzip') {
          expect(res.headers.get('content-encoding')).toBe('gzip')
          expect(gunzipSync(body).toString()).toBe(text)
        } else {
          expect(res.headers.get('content-encoding')).toBeNull()
          expect(body.toString()).toBe(text)
        }
      }
      expect(calls).toBe(placement === 'before' ? 1 : 2)
    })
  }

  it('runs the handler once for 1,000 concurrent identical requests', async () => {
    const { app, counter } = appWith({}, async (c) => {
      await new Promise((r) => setTimeout(r, 100))
      return c.json({ call: counter.calls })
    })
    const responses = await Promise.all(Array.from({ length: 1000 }, () => app.request('/data')))
    expect(counter.calls).toBe(1)
    const bodies = await Promise.all(responses.map(json))
    expect(bodies.every((b) => b.call === 1)).toBe(true)
  })

  it('serves stale while one background run refreshes it, with no more wiring than the stack', async () => {
    const { stack, clock } = makeStack()
    const app = new Hono()
    let calls = 0
    const seen: string[] = []
    app.use('/data', async (c, next) => {
      c.set('user' as never, 'from-upstream' as never)
      await next()
    })
    app.use('/data', cache({ cache: stack, ttl: '10s', staleWhileRevalidate: '1m' }))
    app.get('/data', (c) => {
      seen.push(String(c.get('user' as never)))
      c.header('x-handler', 'yes')
      return c.json({ call: ++calls })
    })
    await app.request('/data')
    clock.time += 15_000
    const stale = await app.request('/data')
    expect([stale.headers.get('x-cache'), (await json(stale)).call]).toEqual(['STALE', 1])
    await expect.poll(() => calls, { timeout: 10_000 }).toBe(2)
    const fresh = await app.request('/data')
    expect([fresh.headers.get('x-cache'), (await json(fresh)).call]).toEqual(['HIT', 2])
    // The refreshed entry is the handler's own answer, not the stale one's headers replayed.
    expect(fresh.headers.get('x-handler')).toBe('yes')
    expect(fresh.headers.get('age')).toBe('0')
    expect(seen).toEqual(['from-upstream', 'from-upstream'])
    expect(calls).toBe(2)
  })

  it('runs the handler for a refresh even behind a second cache middleware on the route', async () => {
    const { stack, clock } = makeStack()
    const app = new Hono()
    let calls = 0
    app.use('/data', cache({ cache: stack, ttl: '10s', staleWhileRevalidate: '1m' }))
    app.get('/data', cache({ cache: stack.namespace('inner'), ttl: '1h' }), (c) => c.json({ call: ++calls }))
    await app.request('/data')
    clock.time += 15_000
    expect((await app.request('/data')).headers.get('x-cache')).toBe('STALE')
    await expect.poll(() => calls, { timeout: 10_000 }).toBe(2)
    expect((await json(await app.request('/data'))).call).toBe(2)
  })

  it('refuses the old app option, naming it', () => {
    const { stack } = makeStack()
    expect(() => cache({ cache: stack, app: new Hono() } as never)).toThrow(/"app"/)
  })
})

describe('statsRoute (hono)', () => {
  it('answers 403 unless authorized, always with no-store and nosniff', async () => {
    const { stack } = makeStack()
    const app = new Hono()
    app.get(
      '/stats',
      statsRoute({ cache: stack, authorize: (c) => c.req.header('authorization') === 'Bearer s3cret' }),
    )
    const denied = await app.request('/stats')
    const allowed = await app.request('/stats', { headers: { authorization: 'Bearer s3cret' } })
    expect([denied.status, allowed.status]).toEqual([403, 200])
    for (const res of [denied, allowed]) {
      expect(res.headers.get('cache-control')).toBe('no-store')
      expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    }
    expect(await json(allowed)).toMatchObject({ hits: expect.any(Number) })
  })
})

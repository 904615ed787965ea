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
  it('stores a miss and replays it with X-Cache, Age and a strong ETag; 304 on If-None-Match', async () => {
    const { app, counter, clock } = appWith({ ttl: '1m' })
    const miss = await app.request('/data')
    expect(miss.headers.get('x-cache')).toBe('MISS')
    clock.time += 2_000
    const hit = await app.request('/data')
    expect([hit.headers.get('x-cache'), hit.headers.get('age'), (await json(hit)).call]).toEqual([
      'HIT',
      '2',
      1,
    ])
    expect(hit.headers.get('etag')).toBe(miss.headers.get('etag'))
    expect(hit.headers.get('content-type')).toMatch(/application\/json/)
    const notModified = await app.request('/data', {
      headers: { 'if-none-match': miss.headers.get('etag')! },
    })
    expect([notModified.status, await notModified.text()]).toEqual([304, ''])
    expect(counter.calls).toBe(1)
  })

  it('bypasses requests with cookies or Authorization in public scope: no cross-user leak', async () => {
    const { app, counter } = appWith()
    await app.request('/data')
    const alice = await app.request('/data', { headers: { cookie: 'sid=alice' } })
    const bob = await app.request('/data', { headers: { authorization: 'Bearer bob' } })
    expect([alice.headers.get('x-cache'), (await json(alice)).user]).toEqual(['BYPASS', 'sid=alice'])
    expect([bob.headers.get('x-cache'), (await json(bob)).user]).toEqual(['BYPASS', 'Bearer bob'])
    expect(counter.calls).toBe(3)
  })

  it('keeps one entry per session with scope private', async () => {
    const session = (c: Context) => c.req.header('cookie') ?? c.req.header('authorization')
    const { app, counter } = appWith({ scope: 'private', session })
    await app.request('/data', { headers: { cookie: 'sid=alice' } })
    await app.request('/data', { headers: { authorization: 'Bearer bob' } })
    const alice = await app.request('/data', { headers: { cookie: 'sid=alice' } })
    const bob = await app.request('/data', { headers: { authorization: 'Bearer bob' } })
    expect([alice.headers.get('x-cache'), (await json(alice)).user]).toEqual(['HIT', 'sid=alice'])
    expect([bob.headers.get('x-cache'), (await json(bob)).user]).toEqual(['HIT', 'Bearer bob'])
    expect((await app.request('/data')).headers.get('x-cache')).toBe('BYPASS')
    expect(counter.calls).toBe(3)
  })

  it('sorts the query, honours ignoreQuery and keys by host with port', async () => {
    const { app, counter } = appWith({ ignoreQuery: ['utm_*', 'fbclid'] })
    await app.request('/data?a=1&b=2')
    expect((await app.request('/data?fbclid=z&b=2&a=1')).headers.get('x-cache')).toBe('HIT')
    expect((await app.request('/data?a=1')).headers.get('x-cache')).toBe('MISS')
    expect((await app.request('http://other.test:8080/data?a=1&b=2')).headers.get('x-cache')).toBe('MISS')
    expect((await app.request('http://other.test:8081/data?a=1&b=2')).headers.get('x-cache')).toBe('MISS')
    expect(counter.calls).toBe(4)
  })

  it('answers HEAD from the GET entry without a body', async () => {
    const { app, counter } = appWith()
    const get = await app.request('/data')
    const head = await app.request('/data', { method: 'HEAD' })
    expect([head.status, head.headers.get('x-cache'), await head.text()]).toEqual([200, 'HIT', ''])
    expect(head.headers.get('content-length')).toBe(get.headers.get('content-length'))
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
      const { app, counter } = appWith({}, (c) => c.text('secret', 200, { [name]: value }))
      await app.request('/data')
      expect((await app.request('/data')).headers.get('x-cache'), `${name}: ${value}`).toBe('MISS')
      expect(counter.calls).toBe(2)
    }
  })

  it('stores a streamed body under the cap and streams an over-size one through unstored', async () => {
    const stream: Answer = (c) => {
      const encoder = new TextEncoder()
      const body = new ReadableStream({
        async start(controller) {
          controller.enqueue(encoder.encode('chunk-1;'))
          await new Promise((r) => setTimeout(r, 5))
          controller.enqueue(encoder.encode('chunk-2;end'))
          controller.close()
        },
      })
      return c.body(body, 200, { 'content-type': 'text/plain' })
    }
    const small = appWith({}, stream)
    expect(await (await small.app.request('/data')).text()).toBe('chunk-1;chunk-2;end')
    const hit = await small.app.request('/data')
    expect([hit.headers.get('x-cache'), await hit.text()]).toEqual(['HIT', 'chunk-1;chunk-2;end'])
    const capped = appWith({ maxBodySize: 10 }, stream)
    expect(await (await capped.app.request('/data')).text()).toBe('chunk-1;chunk-2;end')
    const again = await capped.app.request('/data')
    expect([again.headers.get('x-cache'), await again.text()]).toEqual(['MISS', 'chunk-1;chunk-2;end'])
    expect(capped.counter.calls).toBe(2)
  })

  it('does not store a body over maxBodySize', async () => {
    const { app, counter } = appWith({ maxBodySize: '1kb' }, (c) => c.text('x'.repeat(2048)))
    expect(await (await app.request('/data')).text()).toHaveLength(2048)
    expect(await (await app.request('/data')).text()).toHaveLength(2048)
    expect(counter.calls).toBe(2)
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

  it('purges tagged pages after a 2xx mutation and not after an error', async () => {
    const { stack } = makeStack()
    const app = new Hono()
    const posts = ['first']
    let listCalls = 0
    app.get('/posts', cache({ cache: stack, tags: ['posts'] }), (c) => {
      listCalls++
      return c.json({ page: c.req.query('page'), posts })
    })
    app.post('/posts', cache({ cache: stack, invalidates: () => ['posts'] }), async (c) => {
      const { title } = await c.req.json<{ title?: string }>()
      if (!title) return c.json({ error: 'title required' }, 400)
      posts.push(title)
      return c.json({ ok: true }, 201)
    })
    const post = (body: object) => app.request('/posts', { method: 'POST', body: JSON.stringify(body) })
    await app.request('/posts?page=1')
    await app.request('/posts?page=2')
    expect((await post({})).status).toBe(400)
    expect((await app.request('/posts?page=1')).headers.get('x-cache')).toBe('HIT')
    expect((await post({ title: 'second' })).status).toBe(201)
    const page1 = await app.request('/posts?page=1')
    const page2 = await app.request('/posts?page=2')
    expect([page1.headers.get('x-cache'), page2.headers.get('x-cache')]).toEqual(['MISS', 'MISS'])
    expect((await json(page1)).posts).toEqual(['first', 'second'])
    expect(listCalls).toBe(4)
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
    await expect.poll(() => calls).toBe(2)
    const fresh = await app.request('/data')
    expect([fresh.headers.get('x-cache'), (await json(fresh)).call]).toEqual(['HIT', 2])
    // The refreshed entry is the handler's own answer, not the stale one's headers replayed.
    expect(fresh.headers.get('x-handler')).toBe('yes')
    expect(fresh.headers.get('age')).toBe('0')
    expect(seen).toEqual(['from-upstream', 'from-upstream'])
    expect(calls).toBe(2)
  })

  it('refuses the old app option, naming it', () => {
    const { stack } = makeStack()
    expect(() => cache({ cache: stack, app: new Hono() } as never)).toThrow(/"app"/)
  })

  it('hides a throwing handler behind the stale response during grace', async () => {
    let fail = false
    const { app, clock } = appWith({ ttl: '10s', grace: '1h' }, (c) => {
      if (fail) throw new Error('database down')
      return c.json({ call: 1 })
    })
    await app.request('/data')
    fail = true
    clock.time += 60_000
    const graced = await app.request('/data')
    expect([graced.status, graced.headers.get('x-cache'), (await json(graced)).call]).toEqual([
      200,
      'STALE',
      1,
    ])
    clock.time += 2 * 3_600_000
    expect((await app.request('/data')).status).toBe(500)
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

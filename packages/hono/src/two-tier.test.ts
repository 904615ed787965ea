import { randomBytes } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import { CacheStack, MemoryLayer, RedisBus, RedisLayer } from '@cachestack/core'
import { type Context, Hono } from 'hono'
import { compress } from 'hono/compress'
import type { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createTestRedis, uniquePrefix } from '../../../tools/test-redis.ts'
import { cache } from './index.ts'

// Two app instances behind one load balancer: each has its own memory layer, both share Redis and a
// bus. Requests carry the same host, as they would through the balancer (the key includes the host).
const ORIGIN = 'http://api.test'

let client: Redis
const stacks: CacheStack[] = []
beforeAll(() => {
  client = createTestRedis()
})
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((stack) => stack.disconnect()))
})
afterAll(async () => {
  await client.quit()
})

/** Two two-tier stacks on one Redis prefix and one bus channel, each subscribed. */
async function sharedStacks(): Promise<[CacheStack, CacheStack]> {
  const prefix = uniquePrefix('hono-two-tier')
  const make = () =>
    new CacheStack([new MemoryLayer(), new RedisLayer({ client, prefix })], {
      bus: new RedisBus({ client, channel: `${prefix}bus` }),
    })
  const pair: [CacheStack, CacheStack] = [make(), make()]
  stacks.push(...pair)
  await Promise.all(pair.map((stack) => stack.ready()))
  return pair
}

async function appsOn(routes: (app: Hono, stack: CacheStack) => void): Promise<[Hono, Hono]> {
  return (await sharedStacks()).map((stack) => {
    const app = new Hono()
    routes(app, stack)
    return app
  }) as [Hono, Hono]
}

async function fetchBytes(app: Hono, path: string, headers: Record<string, string> = {}) {
  const res = await app.request(`${ORIGIN}${path}`, { headers })
  return { res, body: Buffer.from(await res.arrayBuffer()) }
}

describe('cache middleware on memory + Redis, two instances (hono)', () => {
  it('answers the second instance’s first request from Redis, byte for byte (binary and gzip bodies)', async () => {
    const binary = randomBytes(4096)
    const text = 'compressible line of text\n'.repeat(200)
    const calls = { binary: 0, text: 0 }
    const layers: string[][] = []
    const [a, b] = await appsOn((app, stack) => {
      const seen: string[] = []
      layers.push(seen)
      stack.on('hit', ({ layer }) => seen.push(layer))
      app.use(cache({ cache: stack }))
      // Compression inside the cache: the stored entry holds the gzip bytes and Vary: Accept-Encoding.
      app.use(compress({ threshold: 0 }))
      app.get('/binary', (c) => {
        calls.binary++
        return c.body(binary, 200, { 'content-type': 'application/octet-stream' })
      })
      app.get('/text', (c) => {
        calls.text++
        return c.text(text)
      })
    })

    for (const [path, headers] of [
      ['/binary', {}],
      ['/text', { 'accept-encoding': 'gzip' }],
    ] as const) {
      const miss = await fetchBytes(a, path, headers)
      const hit = await fetchBytes(b, path, headers)
      expect([miss.res.headers.get('x-cache'), hit.res.headers.get('x-cache')], path).toEqual(['MISS', 'HIT'])
      expect(hit.res.status).toBe(200)
      expect(hit.body.equals(miss.body), path).toBe(true)
      expect(hit.res.headers.get('etag')).toBe(miss.res.headers.get('etag'))
      expect(hit.res.headers.get('content-type')).toBe(miss.res.headers.get('content-type'))
    }
    expect((await fetchBytes(b, '/binary')).body.equals(binary)).toBe(true)
    const gzipped = await fetchBytes(b, '/text', { 'accept-encoding': 'gzip' })
    expect(gzipped.res.headers.get('content-encoding')).toBe('gzip')
    expect(gunzipSync(gzipped.body).toString()).toBe(text)
    expect(calls).toEqual({ binary: 1, text: 1 })
    // B's first reads came from Redis (its memory was empty).
    expect(layers[1]!.slice(0, 2)).toEqual(['redis', 'redis'])
    // A's own bus messages may still drop B's back-filled copy once; after that B answers from memory.
    await vi.waitFor(
      async () => {
        await fetchBytes(b, '/binary')
        expect(layers[1]!.at(-1)).toBe('memory')
      },
      { timeout: 5000 },
    )
  })

  it('purges tagged pages on both instances after a mutation on one of them', async () => {
    const posts = ['first']
    let listCalls = 0
    const [a, b] = await appsOn((app, stack) => {
      app.get(
        '/posts',
        cache({ cache: stack, tags: (c) => ['posts', `page:${c.req.query('page')}`] }),
        (c) => {
          listCalls++
          return c.json({ page: c.req.query('page'), posts })
        },
      )
      app.post('/posts', cache({ cache: stack, invalidates: ['posts'] }), async (c) => {
        posts.push((await c.req.json<{ title: string }>()).title)
        return c.json({ ok: true }, 201)
      })
    })
    const page = async (app: Hono, n: number) => {
      const res = await app.request(`${ORIGIN}/posts?page=${n}`)
      return { cache: res.headers.get('x-cache'), posts: ((await res.json()) as { posts: string[] }).posts }
    }

    await page(a, 1)
    await page(b, 2)
    // Each instance now holds both pages in memory: its own miss, and the other's entry read from Redis.
    expect((await page(b, 1)).cache).toBe('HIT')
    expect((await page(a, 2)).cache).toBe('HIT')
    expect(listCalls).toBe(2)

    const created = await a.request(`${ORIGIN}/posts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'second' }),
    })
    expect(created.status).toBe(201)
    // A purged before answering; B's memory layer drops the entries when the bus message arrives.
    expect(await page(a, 1)).toEqual({ cache: 'MISS', posts: ['first', 'second'] })
    await expect.poll(async () => (await page(b, 2)).posts).toEqual(['first', 'second'])
    // HIT or MISS depending on when B stamped the invalidation (it never trusts an older clock), but fresh.
    expect((await page(b, 1)).posts).toEqual(['first', 'second'])
  })

  it('keeps one entry per session across instances with scope private', async () => {
    let calls = 0
    const session = (c: Context) => /sid=(\w+)/.exec(c.req.header('cookie') ?? '')?.[1]
    const [a, b] = await appsOn((app, stack) => {
      app.get('/me', cache({ cache: stack, scope: 'private', session }), (c) => {
        calls++
        return c.json({ user: session(c), call: calls })
      })
    })
    const me = async (app: Hono, cookie?: string) => {
      const res = await app.request(`${ORIGIN}/me`, { headers: cookie ? { cookie } : {} })
      return [res.headers.get('x-cache'), await res.json()]
    }

    expect(await me(a, 'sid=alice')).toEqual(['MISS', { user: 'alice', call: 1 }])
    expect(await me(b, 'sid=alice')).toEqual(['HIT', { user: 'alice', call: 1 }])
    expect(await me(b, 'sid=bob')).toEqual(['MISS', { user: 'bob', call: 2 }])
    expect(await me(a, 'sid=bob')).toEqual(['HIT', { user: 'bob', call: 2 }])
    expect((await me(b))[0]).toBe('BYPASS')
    expect(calls).toBe(3)
  })
})

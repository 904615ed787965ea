import { randomBytes } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import { CacheStack, MemoryLayer, RedisBus, RedisLayer } from '@cachestack/core'
import compress from '@fastify/compress'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createTestRedis, uniquePrefix } from '../../../tools/test-redis.ts'
import cachestack from './index.ts'

// Two app instances behind one load balancer: each has its own memory layer, both share Redis and a
// bus. Requests carry the same Host, as they would through the balancer (the key includes the host).
const HOST = 'api.test'

let client: Redis
const stacks: CacheStack[] = []
const apps: FastifyInstance[] = []
beforeAll(() => {
  client = createTestRedis()
})
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()))
  await Promise.all(stacks.splice(0).map((stack) => stack.disconnect()))
})
afterAll(async () => {
  await client.quit()
})

/** Two two-tier stacks on one Redis prefix and one bus channel, each subscribed. */
async function sharedStacks(): Promise<[CacheStack, CacheStack]> {
  const prefix = uniquePrefix('fastify-two-tier')
  const make = () =>
    new CacheStack([new MemoryLayer(), new RedisLayer({ client, prefix })], {
      bus: new RedisBus({ client, channel: `${prefix}bus` }),
    })
  const pair: [CacheStack, CacheStack] = [make(), make()]
  stacks.push(...pair)
  await Promise.all(pair.map((stack) => stack.ready()))
  return pair
}

/** One app per stack, set up by `routes` after the plugin is registered. */
async function appsOn(
  routes: (app: FastifyInstance) => void | Promise<void>,
): Promise<[FastifyInstance, FastifyInstance]> {
  const built = await Promise.all(
    (await sharedStacks()).map(async (cache) => {
      const app = Fastify()
      await app.register(cachestack, { cache })
      await routes(app)
      await app.ready()
      apps.push(app)
      return app
    }),
  )
  return built as [FastifyInstance, FastifyInstance]
}

const inject = (app: FastifyInstance, url: string, headers: Record<string, string> = {}) =>
  app.inject({ url, headers: { host: HOST, ...headers } })

describe('cachestack plugin on memory + Redis, two instances (fastify)', () => {
  it('answers the second instance’s first request from Redis, byte for byte (binary and gzip bodies)', async () => {
    const binary = randomBytes(4096)
    const text = 'compressible line of text\n'.repeat(200)
    const calls = { binary: 0, text: 0 }
    const [a, b] = await appsOn(async (app) => {
      // Registered after the cache plugin, so the stored entry holds the gzip bytes.
      await app.register(compress, { threshold: 0 })
      app.get('/binary', { config: { cache: true } }, async (_request, reply) => {
        calls.binary++
        return reply.type('application/octet-stream').send(binary)
      })
      app.get('/text', { config: { cache: true } }, async (_request, reply) => {
        calls.text++
        return reply.type('text/plain').send(text)
      })
    })
    const layers: string[] = []
    b.cache.on('hit', ({ layer }) => layers.push(layer))

    for (const [path, headers] of [
      ['/binary', {}],
      ['/text', { 'accept-encoding': 'gzip' }],
    ] as const) {
      const miss = await inject(a, path, headers)
      const hit = await inject(b, path, headers)
      expect([miss.headers['x-cache'], hit.headers['x-cache']], path).toEqual(['MISS', 'HIT'])
      expect(hit.statusCode).toBe(200)
      expect(hit.rawPayload.equals(miss.rawPayload), path).toBe(true)
      expect(hit.headers.etag).toBe(miss.headers.etag)
      expect(hit.headers['content-type']).toBe(miss.headers['content-type'])
    }
    expect((await inject(b, '/binary')).rawPayload.equals(binary)).toBe(true)
    const gzipped = await inject(b, '/text', { 'accept-encoding': 'gzip' })
    expect(gzipped.headers['content-encoding']).toBe('gzip')
    expect(gunzipSync(gzipped.rawPayload).toString()).toBe(text)
    expect(calls).toEqual({ binary: 1, text: 1 })
    // B's first reads came from Redis (its memory was empty).
    expect(layers.slice(0, 2)).toEqual(['redis', 'redis'])
    // A's own bus messages may still drop B's back-filled copy once; after that B answers from memory.
    await vi.waitFor(
      async () => {
        await inject(b, '/binary')
        expect(layers.at(-1)).toBe('memory')
      },
      { timeout: 5000 },
    )
  })

  it('purges tagged pages on both instances after a mutation on one of them', async () => {
    const posts = ['first']
    let listCalls = 0
    const pageOf = (request: FastifyRequest) => (request.query as { page?: string }).page
    const [a, b] = await appsOn((app) => {
      const tags = (request: FastifyRequest) => ['posts', `page:${pageOf(request)}`]
      app.get('/posts', { config: { cache: { tags } } }, async (request) => {
        listCalls++
        return { page: pageOf(request), posts }
      })
      app.post('/posts', { config: { cache: { invalidates: ['posts'] } } }, async (request, reply) => {
        posts.push((request.body as { title: string }).title)
        return reply.code(201).send({ ok: true })
      })
    })
    const page = async (app: FastifyInstance, n: number) => {
      const res = await inject(app, `/posts?page=${n}`)
      return { cache: res.headers['x-cache'], posts: res.json().posts as string[] }
    }

    await page(a, 1)
    await page(b, 2)
    // Each instance now holds both pages in memory: its own miss, and the other's entry read from Redis.
    expect((await page(b, 1)).cache).toBe('HIT')
    expect((await page(a, 2)).cache).toBe('HIT')
    expect(listCalls).toBe(2)

    const created = await a.inject({
      method: 'POST',
      url: '/posts',
      headers: { host: HOST },
      payload: { title: 'second' },
    })
    expect(created.statusCode).toBe(201)
    // A purged before answering; B's memory layer drops the entries when the bus message arrives.
    expect(await page(a, 1)).toEqual({ cache: 'MISS', posts: ['first', 'second'] })
    await expect.poll(async () => (await page(b, 2)).posts).toEqual(['first', 'second'])
    // HIT or MISS depending on when B stamped the invalidation (it never trusts an older clock), but fresh.
    expect((await page(b, 1)).posts).toEqual(['first', 'second'])
  })

  it('keeps one entry per session across instances with scope private', async () => {
    let calls = 0
    const session = (request: FastifyRequest) => /sid=(\w+)/.exec(request.headers.cookie ?? '')?.[1]
    const [a, b] = await appsOn((app) => {
      app.get('/me', { config: { cache: { scope: 'private', session } } }, async (request) => {
        calls++
        return { user: session(request), call: calls }
      })
    })
    const me = async (app: FastifyInstance, cookie?: string) => {
      const res = await inject(app, '/me', cookie ? { cookie } : {})
      return [res.headers['x-cache'], res.statusCode === 200 ? res.json() : res.statusCode]
    }

    expect(await me(a, 'sid=alice')).toEqual(['MISS', { user: 'alice', call: 1 }])
    expect(await me(b, 'sid=alice')).toEqual(['HIT', { user: 'alice', call: 1 }])
    expect(await me(b, 'sid=bob')).toEqual(['MISS', { user: 'bob', call: 2 }])
    expect(await me(a, 'sid=bob')).toEqual(['HIT', { user: 'bob', call: 2 }])
    expect((await me(b))[0]).toBe('BYPASS')
    expect(calls).toBe(3)
  })
})

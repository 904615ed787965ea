import { randomBytes } from 'node:crypto'
import { get, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'
import { CacheStack, MemoryLayer, RedisBus, RedisLayer } from '@cachestack/core'
import compression from 'compression'
import express, { type Express, type Request } from 'express'
import type { Redis } from 'ioredis'
import request from 'supertest'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createTestRedis, uniquePrefix } from '../../../tools/test-redis.ts'
import { cacheResponses } from './index.ts'

// Two app instances behind one load balancer: each has its own memory layer, both share Redis and a
// bus. Requests carry the same Host, as they would through the balancer (the key includes the host).
const HOST = 'api.test'

let client: Redis
const stacks: CacheStack[] = []
const servers: Server[] = []
beforeAll(() => {
  client = createTestRedis()
})
afterEach(async () => {
  for (const server of servers.splice(0)) server.close()
  await Promise.all(stacks.splice(0).map((stack) => stack.disconnect()))
})
afterAll(async () => {
  await client.quit()
})

/** `count` two-tier stacks on one Redis prefix and one bus channel, each subscribed. */
async function sharedStacks(count: number) {
  const prefix = uniquePrefix('express-two-tier')
  const list = Array.from({ length: count }, () => {
    const layers = [new MemoryLayer(), new RedisLayer({ client, prefix })]
    return new CacheStack(layers, { bus: new RedisBus({ client, channel: `${prefix}bus` }) })
  })
  stacks.push(...list)
  await Promise.all(list.map((stack) => stack.ready()))
  return list
}

function listen(app: Express): Server {
  const server = app.listen(0)
  servers.push(server)
  return server
}

/** A request whose body is never decoded, so bytes are compared as they left the server. */
function rawGet(server: Server, path: string, headers: Record<string, string> = {}) {
  const { port } = server.address() as AddressInfo
  return new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
    get({ port, path, headers: { host: HOST, ...headers } }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (chunk: Buffer) => parts.push(chunk))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }),
      )
    }).on('error', reject)
  })
}

describe('cacheResponses on memory + Redis, two instances (express)', () => {
  it('answers the second instance’s first request from Redis, byte for byte (binary and gzip bodies)', async () => {
    const binary = randomBytes(4096)
    const text = 'compressible line of text\n'.repeat(200)
    const calls = { binary: 0, text: 0 }
    const instances = (await sharedStacks(2)).map((cache) => {
      const app = express()
      app.use(cacheResponses({ cache }))
      // Compression inside the cache: the stored entry holds the gzip bytes and Vary: Accept-Encoding.
      app.use(compression({ threshold: 0 }))
      app.get('/binary', (_req, res) => {
        calls.binary++
        res.type('application/octet-stream').send(binary)
      })
      app.get('/text', (_req, res) => {
        calls.text++
        res.type('text/plain').send(text)
      })
      const layers: string[] = []
      cache.on('hit', ({ layer }) => layers.push(layer))
      return { server: listen(app), layers }
    })
    const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]]

    for (const [path, headers] of [
      ['/binary', {}],
      ['/text', { 'accept-encoding': 'gzip' }],
    ] as const) {
      const miss = await rawGet(a.server, path, headers)
      const hit = await rawGet(b.server, path, headers)
      expect([miss.headers['x-cache'], hit.headers['x-cache']], path).toEqual(['MISS', 'HIT'])
      expect(hit.status).toBe(200)
      expect(hit.body.equals(miss.body), path).toBe(true)
      expect(hit.headers.etag).toBe(miss.headers.etag)
      expect(hit.headers['content-type']).toBe(miss.headers['content-type'])
    }
    expect((await rawGet(b.server, '/binary')).body.equals(binary)).toBe(true)
    const gzipped = await rawGet(b.server, '/text', { 'accept-encoding': 'gzip' })
    expect(gzipped.headers['content-encoding']).toBe('gzip')
    expect(gunzipSync(gzipped.body).toString()).toBe(text)
    expect(calls).toEqual({ binary: 1, text: 1 })
    // B's first reads came from Redis (its memory was empty).
    expect(b.layers.slice(0, 2)).toEqual(['redis', 'redis'])
    // A's own bus messages may still drop B's back-filled copy once; after that B answers from memory.
    await vi.waitFor(
      async () => {
        await rawGet(b.server, '/binary')
        expect(b.layers.at(-1)).toBe('memory')
      },
      { timeout: 5000 },
    )
  })

  it('purges tagged pages on both instances after a mutation on one of them', async () => {
    const posts = ['first']
    let listCalls = 0
    const servers = (await sharedStacks(2)).map((cache) => {
      const app = express()
      app.use(express.json())
      app.get(
        '/posts',
        cacheResponses({ cache, tags: (req) => ['posts', `page:${req.query.page}`] }),
        (req, res) => {
          listCalls++
          res.json({ page: req.query.page, posts })
        },
      )
      app.post('/posts', cacheResponses({ cache, invalidates: ['posts'] }), (req, res) => {
        posts.push(req.body.title)
        res.status(201).json({ ok: true })
      })
      return listen(app)
    })
    const [a, b] = servers as [Server, Server]
    const page = (server: Server, n: number) => request(server).get(`/posts?page=${n}`).set('Host', HOST)

    await page(a, 1)
    await page(b, 2)
    // Each instance now holds both pages in memory: its own miss, and the other's entry read from Redis.
    expect((await page(b, 1)).headers['x-cache']).toBe('HIT')
    expect((await page(a, 2)).headers['x-cache']).toBe('HIT')
    expect(listCalls).toBe(2)

    await request(a).post('/posts').set('Host', HOST).send({ title: 'second' }).expect(201)
    // A purged before answering; B's memory layer drops the entries when the bus message arrives.
    const fromA = await page(a, 1)
    expect([fromA.headers['x-cache'], fromA.body.posts]).toEqual(['MISS', ['first', 'second']])
    await expect.poll(async () => (await page(b, 2)).body.posts).toEqual(['first', 'second'])
    // HIT or MISS depending on when B stamped the invalidation (it never trusts an older clock), but fresh.
    expect((await page(b, 1)).body.posts).toEqual(['first', 'second'])
  })

  it('keeps one entry per session across instances with scope private', async () => {
    let calls = 0
    const session = (req: Request) => /sid=(\w+)/.exec(req.headers.cookie ?? '')?.[1]
    const servers = (await sharedStacks(2)).map((cache) => {
      const app = express()
      app.get('/me', cacheResponses({ cache, scope: 'private', session }), (req, res) => {
        calls++
        res.json({ user: session(req), call: calls })
      })
      return listen(app)
    })
    const [a, b] = servers as [Server, Server]
    const me = (server: Server, cookie?: string) => {
      const req = request(server).get('/me').set('Host', HOST)
      return cookie ? req.set('Cookie', cookie) : req
    }

    const alice = await me(a, 'sid=alice')
    const aliceOnB = await me(b, 'sid=alice')
    const bob = await me(b, 'sid=bob')
    const bobOnA = await me(a, 'sid=bob')
    expect([alice.headers['x-cache'], aliceOnB.headers['x-cache']]).toEqual(['MISS', 'HIT'])
    expect([bob.headers['x-cache'], bobOnA.headers['x-cache']]).toEqual(['MISS', 'HIT'])
    expect([aliceOnB.body, bobOnA.body]).toEqual([
      { user: 'alice', call: 1 },
      { user: 'bob', call: 2 },
    ])
    expect((await me(b)).headers['x-cache']).toBe('BYPASS')
    expect(calls).toBe(3)
  })
})

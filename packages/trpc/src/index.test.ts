import { Agent, request as httpRequest } from 'node:http'
import { CacheStack, MemoryLayer } from '@cachestack/core'
import { createManualClock } from '@cachestack/core/testing'
import { createTRPCClient, httpBatchLink, httpBatchStreamLink, TRPCClientError } from '@trpc/client'
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { cacheMiddleware } from './cache-middleware.ts'
import { invalidateMiddleware } from './invalidate-middleware.ts'
import { startServer, type TestRouter } from './test-server.ts'

const clock = createManualClock()
const cache = new CacheStack([new MemoryLayer()], { clock })
const calls = new Map<string, number>()
const server = await startServer(cache, calls)
afterAll(async () => {
  await server.close()
  await cache.disconnect()
})
beforeEach(async () => {
  calls.clear()
  await cache.clear()
})

type Link = typeof httpBatchLink | typeof httpBatchStreamLink
function client(link: Link, user?: string) {
  return createTRPCClient<TestRouter>({
    links: [link({ url: server.url, headers: () => (user ? { 'x-user': user } : {}) })],
  })
}

// A keep-alive agent with one socket: every request of a test rides the same connection.
const agent = new Agent({ keepAlive: true, maxSockets: 1 })
afterAll(() => agent.destroy())
function get(path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; cacheControl: string | undefined; body: string; socket: unknown }>(
    (resolve, reject) => {
      const req = httpRequest(`${server.url}${path}`, { agent, headers }, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => (body += chunk))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            cacheControl: res.headers['cache-control'],
            body,
            socket: req.socket,
          }),
        )
      })
      req.on('error', reject)
      req.end()
    },
  )
}
const batchPath = (paths: string[], inputs: unknown[]) =>
  `/${paths.join(',')}?batch=1&input=${encodeURIComponent(JSON.stringify(Object.fromEntries(inputs.map((v, i) => [i, v]))))}`

describe.each([
  ['httpBatchLink', httpBatchLink],
  ['httpBatchStreamLink', httpBatchStreamLink],
] as const)('through %s', (_name, link) => {
  it('runs the resolver once for concurrent identical calls and answers hits afterwards', async () => {
    const trpc = client(link)
    const answers = await Promise.all(Array.from({ length: 50 }, () => trpc.post.query({ id: 1 })))
    expect(new Set(answers.map((a) => JSON.stringify(a)))).toEqual(new Set(['{"id":1,"title":"Post 1"}']))
    expect(calls.get('post')).toBe(1)
    await trpc.post.query({ id: 2 })
    await trpc.post.query({ id: 1 })
    expect(calls.get('post')).toBe(2)
  })

  it("never returns another user's private data, with interleaved concurrent batches", async () => {
    const users = ['alice', 'bob', 'carol']
    const rounds = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const user = users[i % users.length] as string
        const trpc = client(link, user)
        // One batch: a private and a public call together.
        const [me, post] = await Promise.all([trpc.me.query(), trpc.post.query({ id: i % 4 })])
        return { user, me, post }
      }),
    )
    for (const { user, me, post } of rounds) {
      expect(me).toEqual({ user, secret: `secret of ${user}` })
      expect(post.title).toBe(`Post ${post.id}`)
    }
    expect(calls.get('me')).toBe(3)
  })

  it('answers a private call without a session uncached, never from a user entry', async () => {
    await client(link, 'alice').me.query()
    const anonymous = client(link)
    expect(await anonymous.me.query()).toEqual({ user: null, secret: 'secret of nobody' })
    expect(await anonymous.me.query()).toEqual({ user: null, secret: 'secret of nobody' })
    expect(calls.get('me')).toBe(3)
  })

  it('never stores a thrown TRPCError: the client gets its code, the next call runs again', async () => {
    const trpc = client(link)
    const error = await trpc.flaky.query().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TRPCClientError)
    expect((error as TRPCClientError<TestRouter>).data?.code).toBe('NOT_FOUND')
    expect(await trpc.flaky.query()).toBe('found')
    expect(await trpc.flaky.query()).toBe('found')
    expect(calls.get('flaky')).toBe(2)
  })
})

it('refuses a cache middleware on a mutation when called: configuration error, resolver not run', async () => {
  const error = await client(httpBatchLink)
    .wrongPlace.mutate()
    .catch((e: unknown) => e)
  expect((error as TRPCClientError<TestRouter>).data?.code).toBe('INTERNAL_SERVER_ERROR')
  expect((error as Error).message).toMatch(/query procedures only; "wrongPlace" is a mutation/)
  expect(calls.get('wrongPlace')).toBeUndefined()
})

it('invalidates after a successful mutation only, before the answer reaches the client', async () => {
  const trpc = client(httpBatchLink)
  await trpc.post.query({ id: 7 })
  await trpc.post.query({ id: 7 })
  expect(calls.get('post')).toBe(1)
  await expect(trpc.rename.mutate({ id: 7, title: '' })).rejects.toThrow('empty title')
  await trpc.post.query({ id: 7 })
  expect(calls.get('post')).toBe(1)
  await trpc.rename.mutate({ id: 7, title: 'New' })
  await trpc.post.query({ id: 7 })
  expect(calls.get('post')).toBe(2)
})

describe('responseMeta over one keep-alive connection', () => {
  it('is public with the smallest max-age only when every call is a public successful cached query', async () => {
    const pub = await get(batchPath(['post', 'post'], [{ id: 1 }, { id: 2 }]))
    expect([pub.status, pub.cacheControl]).toEqual([200, 'public, max-age=60'])
    const again = await get(batchPath(['post'], [{ id: 1 }]))
    expect(again.cacheControl).toBe('public, max-age=60')
    const mixed = await get(batchPath(['post', 'me'], [{ id: 1 }, undefined]), { 'x-user': 'alice' })
    expect(mixed.cacheControl).toBe('private, no-store')
    expect(mixed.body).toContain('secret of alice')
    const failed = await get(batchPath(['post', 'flaky'], [{ id: 1 }, undefined]))
    expect(failed.cacheControl).toBe('private, no-store')
    const single = await get(`/post?input=${encodeURIComponent(JSON.stringify({ id: 3 }))}`)
    expect(single.cacheControl).toBe('public, max-age=60')
    expect(new Set([pub.socket, again.socket, mixed.socket, failed.socket, single.socket]).size).toBe(1)
  })

  it('is private, no-store for a streamed batch, decided before any call ran', async () => {
    const res = await get(batchPath(['post'], [{ id: 1 }]), { 'trpc-accept': 'application/jsonl' })
    expect(res.cacheControl).toBe('private, no-store')
  })
})

it('serves stale while one background call refreshes, and never lets shared caches keep a stale answer', async () => {
  const news = () => get('/news')
  const first = await news()
  expect([first.body, first.cacheControl]).toEqual([
    expect.stringContaining('edition 1'),
    'public, max-age=10',
  ])
  clock.advance(11_000)
  const stale = await news()
  expect([stale.body, stale.cacheControl]).toEqual([
    expect.stringContaining('edition 1'),
    'private, no-store',
  ])
  await vi.waitFor(() => expect(calls.get('news')).toBe(2), { timeout: 10_000 })
  const fresh = await news()
  expect([fresh.body, fresh.cacheControl]).toEqual([
    expect.stringContaining('edition 2'),
    'public, max-age=10',
  ])
})

describe('options', () => {
  it('refuses unknown and wrong options with a ValidationError naming them', () => {
    expect(() => cacheMiddleware({ cache, tll: '1m' } as never)).toThrow(
      /"tll" is not an option of cacheMiddleware\(\); did you mean "ttl"/,
    )
    expect(() => cacheMiddleware({ cache, scope: 'private' })).toThrow(
      expect.objectContaining({ option: 'session' }),
    )
    expect(() => cacheMiddleware({ cache, key: 'id' } as never)).toThrow(
      expect.objectContaining({ option: 'key' }),
    )
    expect(() => invalidateMiddleware({ cache, tag: ['x'] } as never)).toThrow(
      expect.objectContaining({ option: 'tag' }),
    )
    expect(() => invalidateMiddleware({ cache, tags: 'x' } as never)).toThrow(
      expect.objectContaining({ option: 'tags' }),
    )
  })
})

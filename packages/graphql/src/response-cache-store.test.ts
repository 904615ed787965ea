import { CacheStack, MemoryLayer, RedisBus, RedisLayer, ValidationError } from '@cachestack/core'
import { createManualClock } from '@cachestack/core/testing'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createTestRedis, uniquePrefix } from '../../../tools/test-redis.ts'
import { RESPONSE_KEY_PREFIX, responseCacheStore } from './response-cache-store.ts'
import { type ResponseApp, responseData, startResponseApp } from './response-cache-test-app.ts'
import { entityTag, listTag } from './type-tags.ts'

let client: Redis
const closers: (() => Promise<unknown>)[] = []
beforeAll(() => {
  client = createTestRedis()
})
afterAll(async () => {
  for (const close of closers.reverse()) await close()
  await client.quit()
})

function track<T extends { close(): Promise<unknown> } | { disconnect(): Promise<unknown> }>(thing: T): T {
  closers.push(() => ('close' in thing ? thing.close() : thing.disconnect()))
  return thing
}

const clock = createManualClock()

describe.each([
  ['a memory stack', () => new CacheStack([new MemoryLayer()], { clock, ttl: '1h' })],
  [
    'a memory + Redis stack',
    () =>
      new CacheStack(
        [new MemoryLayer(), new RedisLayer({ client, prefix: uniquePrefix('graphql-response') })],
        { clock, ttl: '1h' },
      ),
  ],
] as const)('responseCacheStore on %s, behind Yoga’s response-cache plugin', (_name, makeStack) => {
  let cache: CacheStack
  let app: ResponseApp
  const data = responseData()
  beforeAll(async () => {
    cache = track(makeStack())
    await cache.ready()
    app = track(
      await startResponseApp(cache, data, {
        ttl: 60_000,
        scopePerSchemaCoordinate: { 'Query.me': 'PRIVATE' },
      }),
    )
  })
  beforeEach(async () => {
    await cache.clear()
    app.calls.clear()
    data.posts.splice(0, Infinity, ...responseData().posts)
  })

  it('serves a second identical query from the store (the resolver does not run), many requests on one connection', async () => {
    const query = '{ posts { id title } }'
    const miss = await app.gql(query)
    expect(miss.body).toEqual({
      data: {
        posts: [
          { id: '1', title: 'One' },
          { id: '2', title: 'Two' },
        ],
      },
    })
    for (let i = 0; i < 20; i++) {
      const hit = await app.gql(query)
      expect(hit.status).toBe(200)
      expect(hit.body).toEqual(miss.body)
      expect(hit.headers.etag).toBe(miss.headers.etag)
    }
    expect(app.calls.get('Query.posts')).toBe(1)
    // The ETag the plugin stored answers If-None-Match with a 304 (Yoga reads the store with it).
    const revalidated = await app.gql(query, { headers: { 'if-none-match': String(miss.headers.etag) } })
    expect(revalidated.status).toBe(304)
    expect(app.connections()).toBe(1)
  })

  it('a mutation purges the responses holding the entity it returned (the plugin’s own invalidation), and only those', async () => {
    await app.gql('{ post(id: "1") { title } }')
    await app.gql('{ post(id: "2") { title } }')
    await app.gql('{ posts { id title } }')
    const renamed = await app.gql('mutation { renamePost(id: "1", title: "Uno") { id title } }')
    expect(renamed.body.data.renamePost).toEqual({ id: '1', title: 'Uno' })
    expect((await app.gql('{ post(id: "1") { title } }')).body.data.post).toEqual({ title: 'Uno' })
    expect((await app.gql('{ post(id: "2") { title } }')).body.data.post).toEqual({ title: 'Two' })
    expect((await app.gql('{ posts { id title } }')).body.data.posts[0]).toEqual({ id: '1', title: 'Uno' })
    // post 1 and the list ran again; post 2 was not touched.
    expect(app.calls.get('Query.post')).toBe(3)
    expect(app.calls.get('Query.posts')).toBe(2)
  })

  it('invalidateResolver purges whole responses: a creation reaches every cached list (Post:list)', async () => {
    await app.gql('{ posts { id } }')
    await app.gql('{ posts { id } }')
    expect(app.calls.get('Query.posts')).toBe(1)
    await app.gql('mutation { addPost(title: "Three") { id } }')
    const after = await app.gql('{ posts { id } }')
    expect(after.body.data.posts.map((p: { id: string }) => p.id)).toEqual(['1', '2', '3'])
    expect(app.calls.get('Query.posts')).toBe(2)
    // A tag from the store's scheme works the same from anywhere: Post:2 purges what holds post 2.
    await app.gql('{ post(id: "2") { title } }')
    await cache.invalidateByTags([entityTag('Post', '2')])
    await app.gql('{ post(id: "2") { title } }')
    expect(app.calls.get('Query.post')).toBe(2)
  })

  it("never serves one user's response to another; PRIVATE fields without a session are never stored", async () => {
    const users = ['alice', 'bob', undefined] as const
    const rounds = async () => {
      const answers = await Promise.all(
        Array.from({ length: 30 }, async (_, i) => {
          const user = users[i % 3]
          return { user, body: (await app.gql('{ me { id name } }', user ? { user } : {})).body }
        }),
      )
      for (const { user, body } of answers) {
        expect(body).toEqual({ data: { me: user ? { id: user, name: `name of ${user}` } : null } })
      }
    }
    await rounds()
    const first = app.calls.get('Query.me') ?? 0
    await rounds()
    // The second round: every signed-in call from its own session's entry, every anonymous call ran.
    expect(app.calls.get('Query.me')).toBe(first + 10)
  })

  it('600 concurrent requests of three callers on 16 kept-alive connections: each gets its own answer', async () => {
    const users = ['carol', 'dave', undefined] as const
    const burst = () =>
      Promise.all(
        Array.from({ length: 600 }, async (_, i) => {
          const user = users[i % 3]
          const { body } = await app.parallel('{ me { id name } posts { id } }', user ? { user } : {})
          expect(body.data.me).toEqual(user ? { id: user, name: `name of ${user}` } : null)
        }),
      )
    await burst()
    const runs = app.calls.get('Query.me') ?? 0
    await burst()
    expect(app.calls.get('Query.me')).toBe(runs + 200)
    expect(app.connections()).toBeLessThanOrEqual(17)
  })

  it('does not store a result with errors unless the plugin is told to', async () => {
    expect((await app.gql('{ boom }')).body.errors[0].message).toBe('boom')
    expect((await app.gql('{ boom }')).body.errors[0].message).toBe('boom')
    expect(app.calls.get('Query.boom')).toBe(2)
    const keeping = track(
      await startResponseApp(cache, data, { shouldCacheResult: () => true }, { prefix: 'with-errors:' }),
    )
    const first = await keeping.gql('{ boom }')
    const second = await keeping.gql('{ boom }')
    expect(second.body).toEqual(first.body)
    expect(second.body.errors[0]).toMatchObject({ message: 'boom', path: ['boom'] })
    expect(keeping.calls.get('Query.boom')).toBe(1)
  })

  it('expires on the stack’s clock: the plugin’s ttl in ms, and the store’s ttl when the plugin gives none (Infinity)', async () => {
    const query = '{ post(id: "1") { id } }'
    /** Served from the store 1 ms before `ms` has passed, run again 1 ms after. */
    async function expiresAfter(server: typeof app, ms: number) {
      await server.gql(query)
      clock.advance(ms - 1)
      await server.gql(query)
      expect(server.calls.get('Query.post')).toBe(1)
      clock.advance(2)
      await server.gql(query)
      expect(server.calls.get('Query.post')).toBe(2)
    }
    await expiresAfter(app, 60_000)
    await expiresAfter(
      track(await startResponseApp(cache, data, {}, { prefix: 'no-plugin-ttl:', ttl: '5m' })),
      300_000,
    )
  })

  it('a read right after an invalidation the plugin did not await never answers the purged response', async () => {
    const store = responseCacheStore(cache)
    for (let i = 0; i < 20; i++) {
      await store.set(
        `read-own-write-${i}`,
        { data: { post: { id: i } } },
        [{ typename: 'Post', id: i }],
        60_000,
      )
      expect(await store.get(`read-own-write-${i}`)).not.toBeNull()
      void store.invalidate([{ typename: 'Post', id: i }])
      expect(await store.get(`read-own-write-${i}`)).toBeNull()
    }
  })

  it('a stored value of an unexpected shape, a ttl of 0 or below, and an id of any length are misses', async () => {
    const store = responseCacheStore(cache)
    for (const bad of ['text', 42, [], { data: 5 }, { data: {}, extra: 1 }, { errors: [{}] }, {}, null]) {
      await cache.set(`${RESPONSE_KEY_PREFIX}bad`, bad)
      expect(await store.get('bad')).toBeNull()
    }
    for (const ttl of [0, -1, Number.NaN]) {
      await store.set('zero', { data: { a: 1 } }, [], ttl)
      expect(await store.get('zero')).toBeNull()
    }
    const long = 'x'.repeat(10_000)
    expect(await store.get(long)).toBeNull()
    await store.set(long, { data: { a: 1 } }, [{ typename: 'Post', id: 1 }], 1000)
    expect(await store.get(long)).toEqual({ data: { a: 1 } })
    await store.invalidate([{ typename: 'Post' }])
    expect(await store.get(long)).toBeNull()
  })
})

describe('responseCacheStore across instances sharing Redis and a bus', () => {
  it('another instance answers from Redis; its mutation, its invalidateResolver and a tag from a third purge everywhere', async () => {
    const prefix = uniquePrefix('graphql-response-two')
    const stack = () =>
      track(
        new CacheStack([new MemoryLayer(), new RedisLayer({ client, prefix })], {
          bus: new RedisBus({ client, channel: `${prefix}bus` }),
        }),
      )
    const [stackA, stackB, stackC] = [stack(), stack(), stack()]
    await Promise.all([stackA.ready(), stackB.ready(), stackC.ready()])
    const data = responseData()
    const a = track(await startResponseApp(stackA, data, { ttl: 60_000 }))
    const b = track(await startResponseApp(stackB, data, { ttl: 60_000 }))
    const query = '{ posts { id title } }'
    const miss = await a.gql(query)
    expect(await b.gql(query)).toMatchObject({ body: miss.body })
    expect(b.calls.get('Query.posts')).toBeUndefined()

    // B's mutation: the plugin on B invalidates Post:1; A stops answering the old title.
    await b.gql('mutation { renamePost(id: "1", title: "Uno") { id } }')
    await expect.poll(async () => (await a.gql(query)).body.data.posts[0].title).toBe('Uno')
    await b.gql(query)

    // B's invalidateResolver (addPost): Post:list reaches A's copy.
    await b.gql('mutation { addPost(title: "Three") { id } }')
    await expect.poll(async () => (await a.gql(query)).body.data.posts.length).toBe(3)

    // A stack with no server: a tag of the same scheme.
    const runs = a.calls.get('Query.posts')
    await a.gql(query)
    expect(a.calls.get('Query.posts')).toBe(runs)
    data.posts[1]!.title = 'Dos'
    await stackC.invalidateByTags([listTag('Post')])
    await expect.poll(async () => (await a.gql(query)).body.data.posts[1].title).toBe('Dos')
    expect((await b.gql(query)).body.data.posts[1].title).toBe('Dos')
    expect(a.connections()).toBe(1)
    expect(b.connections()).toBe(1)
  })
})

describe('responseCacheStore options', () => {
  const cache = new CacheStack([new MemoryLayer()])
  it('refuses unknown and misspelt options, naming them, and impossible values', () => {
    const attempt = (options: unknown) => () => responseCacheStore(cache, options as never)
    expect(attempt({ prefx: 'x' })).toThrow(
      /"prefx" is not an option of responseCacheStore\(\); did you mean "prefix"/,
    )
    expect(attempt({ tags: [] })).toThrow(ValidationError)
    expect(attempt({ prefix: '' })).toThrow(/"prefix"/)
    expect(attempt({ ttl: 0 })).toThrow(/"ttl"/)
    expect(attempt({ ttl: '5M' })).toThrow(/"ttl"/)
    expect(attempt({ ttl: Number.POSITIVE_INFINITY })).toThrow(/"ttl"/)
    expect(attempt(null)).toThrow(/options/)
    expect(() => responseCacheStore({} as never)).toThrow(/CacheStack/)
    try {
      responseCacheStore(cache, { ttI: '1m' } as never)
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).option).toBe('ttI')
    }
  })
})

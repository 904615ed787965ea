import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CacheStack, MemoryLayer, RedisBus, RedisLayer } from '@cachestack/core'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createTestRedis, uniquePrefix } from '../../../tools/test-redis.ts'
import { loadYoga } from './load-yoga.ts'
import { createResolvers, type TestContext, typeDefs } from './test-schema.ts'

// Two Yoga instances behind one load balancer: each with its own memory layer, both on one Redis and bus.
let client: Redis
const closers: (() => Promise<unknown>)[] = []
beforeAll(() => {
  client = createTestRedis()
})
afterAll(async () => {
  for (const close of closers) await close()
  await client.quit()
})

async function instance(prefix: string) {
  const cache = new CacheStack([new MemoryLayer(), new RedisLayer({ client, prefix })], {
    bus: new RedisBus({ client, channel: `${prefix}bus` }),
  })
  await cache.ready()
  const calls = new Map<string, number>()
  const { createSchema, createYoga } = await loadYoga()
  const yoga = createYoga({
    schema: createSchema({ typeDefs, resolvers: createResolvers(cache, calls) }),
    context: ({ request }): TestContext => ({ user: request.headers.get('x-user') ?? undefined }),
    logging: false,
  })
  const server = createServer(yoga)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  closers.push(
    () => new Promise((resolve) => server.close(resolve)),
    () => cache.disconnect(),
  )
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`
  const gql = async (query: string, user?: string) =>
    (await (
      await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(user ? { 'x-user': user } : {}) },
        body: JSON.stringify({ query }),
      })
    ).json()) as { data?: any; errors?: unknown }
  return { gql, calls }
}

it('a hit from Redis on another instance answers exactly what the miss did; a creation purges both', async () => {
  const prefix = uniquePrefix('graphql-two-tier')
  const a = await instance(prefix)
  const b = await instance(prefix)
  const query = '{ posts { id title author { id name } } }'
  const miss = await a.gql(query)
  expect(miss.data.posts).toHaveLength(3)
  expect(await b.gql(query)).toEqual(miss)
  expect(b.calls.get('Query.posts')).toBeUndefined()
  expect(b.calls.get('Post.author')).toBeUndefined()
  // Private entries stay private across instances too.
  const alice = await a.gql('{ me { user secret } }', 'alice')
  expect(await b.gql('{ me { user secret } }', 'alice')).toEqual(alice)
  expect((await b.gql('{ me { user secret } }', 'bob')).data.me).toEqual({
    user: 'bob',
    secret: 'secret of bob',
  })
  await a.gql('mutation { createPost(title: "Four", authorId: "u1") { id } }')
  await b.gql(query)
  expect(b.calls.get('Query.posts')).toBe(1)
})

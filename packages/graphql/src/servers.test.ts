import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ApolloServer } from '@apollo/server'
import { startStandaloneServer } from '@apollo/server/standalone'
import { CacheStack, MemoryLayer } from '@cachestack/core'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { loadYoga } from './load-yoga.ts'
import { createResolvers, type TestContext, typeDefs } from './test-schema.ts'

interface Running {
  url: string
  close(): Promise<void>
}

async function startYoga(cache: CacheStack, calls: Map<string, number>): Promise<Running> {
  const { createSchema, createYoga } = await loadYoga()
  const yoga = createYoga({
    schema: createSchema({ typeDefs, resolvers: createResolvers(cache, calls) }),
    context: ({ request }): TestContext => ({ user: request.headers.get('x-user') ?? undefined }),
    logging: false,
    maskedErrors: false,
  })
  const server = createServer(yoga)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

async function startApollo(cache: CacheStack, calls: Map<string, number>): Promise<Running> {
  const apollo = new ApolloServer<TestContext>({ typeDefs, resolvers: createResolvers(cache, calls) })
  const { url } = await startStandaloneServer(apollo, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }) => ({ user: (req.headers['x-user'] as string | undefined) || undefined }),
  })
  return { url, close: () => apollo.stop() }
}

describe.each([
  ['graphql-yoga', startYoga],
  ['Apollo Server', startApollo],
] as const)('through %s', (_name, start) => {
  const cache = new CacheStack([new MemoryLayer()])
  const calls = new Map<string, number>()
  let server: Running
  beforeEach(async () => {
    server ??= await start(cache, calls)
    calls.clear()
    await cache.clear()
  })
  afterAll(async () => {
    await server.close()
    await cache.disconnect()
  })

  // undici's fetch keeps connections alive: the requests of a test share a few sockets.
  async function gql(query: string, user?: string, variables?: Record<string, unknown>) {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(user ? { 'x-user': user } : {}) },
      body: JSON.stringify({ query, variables }),
    })
    return (await res.json()) as { data?: any; errors?: { message: string }[] }
  }

  it('caches a root field and a nested field (Post.author); a hit answers exactly what the miss did', async () => {
    const query = '{ posts { id title author { id name } } }'
    const miss = await gql(query)
    expect(miss.errors).toBeUndefined()
    expect(miss.data.posts).toHaveLength(3)
    expect(miss.data.posts[0]).toEqual({ id: '1', title: 'One', author: { id: 'u1', name: 'Ada' } })
    const hit = await gql(query)
    expect(hit).toEqual(miss)
    expect(calls.get('Query.posts')).toBe(1)
    // Two distinct authors, each resolved once across both requests.
    expect(calls.get('Post.author')).toBe(2)
    await gql('{ post(id: "2") { title } }')
    await gql('{ post(id: "2") { title } }')
    await gql('{ post(id: "3") { title } }')
    expect(calls.get('Query.post')).toBe(2)
  })

  it('runs a resolver once for 100 concurrent identical cold requests', async () => {
    const answers = await Promise.all(Array.from({ length: 100 }, () => gql('{ posts { id } }')))
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1)
    expect(calls.get('Query.posts')).toBe(1)
  })

  it("never serves one user's entry to another or to an anonymous caller (interleaved, concurrent)", async () => {
    const users = ['alice', 'bob']
    const answers = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const user = i % 3 === 2 ? undefined : users[i % 2]
        return { user, answer: await gql('{ me { user secret } }', user) }
      }),
    )
    for (const { user, answer } of answers) {
      expect(answer.data.me).toEqual({ user: user ?? null, secret: `secret of ${user ?? 'nobody'}` })
    }
    const anonymousRuns = answers.filter((a) => a.user === undefined).length
    // One run per user, and every anonymous call ran uncached.
    expect(calls.get('Query.me')).toBe(2 + anonymousRuns)
  })

  it('does not cache a resolver that throws', async () => {
    const failed = await gql('{ flaky }')
    expect(failed.errors?.[0]?.message).toMatch(/not yet/)
    expect((await gql('{ flaky }')).data).toEqual({ flaky: 'found' })
    expect((await gql('{ flaky }')).data).toEqual({ flaky: 'found' })
    expect(calls.get('Query.flaky')).toBe(2)
  })

  it('a creation purges every cached list through the type tag, and the post through its entity tag', async () => {
    const before = await gql('{ posts { id } }')
    await gql('{ post(id: "4") { id } }')
    expect(await gql('{ posts { id } }')).toEqual(before)
    expect(calls.get('Query.posts')).toBe(1)
    const created = await gql('mutation { createPost(title: "Four", authorId: "u2") { id title } }')
    expect(created.data.createPost).toEqual({ id: '4', title: 'Four' })
    const after = await gql('{ posts { id title author { name } } }')
    expect(after.data.posts.map((p: { id: string }) => p.id)).toEqual(['1', '2', '3', '4'])
    expect(after.data.posts[3].author).toEqual({ name: 'Grace' })
    expect(calls.get('Query.posts')).toBe(2)
    // post(id: "4") was cached as null before the creation, tagged Post:4 by its argument.
    expect((await gql('{ post(id: "4") { title } }')).data.post).toEqual({ title: 'Four' })
    expect(calls.get('Query.post')).toBe(2)
  })
})

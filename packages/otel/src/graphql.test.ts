import { CacheStack } from '@cachestack/core'
import { cacheResolver } from '@cachestack/graphql'
import { buildSchema, graphql } from 'graphql'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { instrumentCache } from './index.ts'
import { createTelemetry, parentId, useAsyncContext } from './telemetry.fixture.ts'

// GraphQL reports through publishServeStatus: cache.status lands on the span active while the field resolves.
const telemetry = createTelemetry()
const cache = new CacheStack()
let stop: () => void
beforeAll(() => {
  useAsyncContext()
  stop = instrumentCache(cache, { tracer: telemetry.tracer, meter: telemetry.meter })
})
afterAll(async () => {
  stop()
  await cache.disconnect()
  await telemetry.shutdown()
})

it('sets cache.status on the active span of a resolution: miss, hit, bypass without a session', async () => {
  const schema = buildSchema('type Post { id: Int! } type Query { post(id: Int!): Post  mine: String }')
  let runs = 0
  const rootValue = {
    post: cacheResolver(
      (_parent: unknown, args: { id: number }) => {
        runs++
        return { id: args.id }
      },
      { cache, ttl: '30s' },
    ),
    mine: cacheResolver(
      (_parent: unknown, _args: unknown, ctx: { userId?: string }) => `owner ${ctx.userId}`,
      {
        cache,
        scope: 'private',
        session: (ctx: { userId?: string }) => ctx.userId,
      },
    ),
  }
  // buildSchema + rootValue: root fields call the root value's resolvers with (parent, args, ctx, info).
  const resolveRoot = (source: string) =>
    graphql({
      schema,
      source,
      contextValue: {},
      fieldResolver: (root, args, ctx, info) => {
        const field = (root as Record<string, unknown>)[info.fieldName]
        return typeof field === 'function' ? field(root, args, ctx, info) : field
      },
      rootValue,
    })
  const call = (name: string, source: string) =>
    telemetry.tracer.startActiveSpan(name, async (span) => {
      try {
        return await resolveRoot(source)
      } finally {
        span.end()
      }
    })
  expect((await call('first', '{ post(id: 1) { id } }')).data).toEqual({ post: { id: 1 } })
  expect((await call('second', '{ post(id: 1) { id } }')).data).toEqual({ post: { id: 1 } })
  expect((await call('anonymous', '{ mine }')).data).toEqual({ mine: 'owner undefined' })
  expect(runs).toBe(1)
  const status = (name: string) => telemetry.span(name).attributes['cache.status']
  expect([status('first'), status('second'), status('anonymous')]).toEqual(['miss', 'hit', 'bypass'])
  const read = telemetry
    .spans()
    .find((span) => parentId(span) === telemetry.span('first').spanContext().spanId)
  expect(read?.name).toBe('cache.get')
})

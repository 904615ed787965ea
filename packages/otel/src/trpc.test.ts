import { CacheStack } from '@cachestack/core'
import { cacheMiddleware } from '@cachestack/trpc'
import { initTRPC } from '@trpc/server'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { instrumentCache } from './index.ts'
import { createTelemetry, parentId, useAsyncContext } from './telemetry.fixture.ts'

// tRPC reports through publishServeStatus: cache.status lands on the active span of the call.
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

it('sets cache.status on the active span of a tRPC call: miss, hit, bypass without a session', async () => {
  const t = initTRPC.context<{ userId: string | undefined }>().create()
  let runs = 0
  const router = t.router({
    byId: t.procedure
      .input((raw) => raw as { id: number })
      .use(cacheMiddleware({ cache, ttl: '30s' }))
      .query(({ input }) => {
        runs++
        return { id: input.id }
      }),
    mine: t.procedure
      .use(
        cacheMiddleware<{ userId: string | undefined }>({
          cache,
          scope: 'private',
          session: (ctx) => ctx.userId,
        }),
      )
      .query(({ ctx }) => ({ owner: ctx.userId })),
  })
  const caller = t.createCallerFactory(router)({ userId: undefined })
  const call = (name: string, work: () => Promise<unknown>) =>
    telemetry.tracer.startActiveSpan(name, async (span) => {
      try {
        return await work()
      } finally {
        span.end()
      }
    })
  expect(await call('first', () => caller.byId({ id: 1 }))).toEqual({ id: 1 })
  expect(await call('second', () => caller.byId({ id: 1 }))).toEqual({ id: 1 })
  expect(await call('anonymous', () => caller.mine())).toEqual({ owner: undefined })
  expect(runs).toBe(1)
  const status = (name: string) => telemetry.span(name).attributes['cache.status']
  expect([status('first'), status('second'), status('anonymous')]).toEqual(['miss', 'hit', 'bypass'])
  expect(telemetry.span('anonymous').attributes['cache.status.detail']).toBe('no-session')
  const read = telemetry
    .spans()
    .find((span) => parentId(span) === telemetry.span('first').spanContext().spanId)
  expect(read?.name).toBe('cache.get')
})

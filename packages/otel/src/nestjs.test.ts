import { createRequire } from 'node:module'
import { CacheStackModule } from '@cachestack/nestjs'
import { SpanKind, trace } from '@opentelemetry/api'
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// NestJS's own test app (controllers, keep-alive client), reused rather than rebuilt here.
import { ItemsController, makeStack, PLATFORMS, startApp } from '../../nestjs/src/test-app.ts'
import { instrumentCache } from './index.ts'
import { createTelemetry, useAsyncContext } from './telemetry.fixture.ts'

const telemetry = createTelemetry()
const instrumentation = new HttpInstrumentation()
beforeAll(() => {
  useAsyncContext()
  trace.setGlobalTracerProvider(telemetry.provider)
  instrumentation.setTracerProvider(telemetry.provider)
  instrumentation.enable()
  createRequire(import.meta.url)('node:http')
})
afterAll(async () => {
  instrumentation.disable()
  await telemetry.shutdown()
})

describe.each(PLATFORMS)('NestJS CacheInterceptor on %s behind instrumentation-http', (platform) => {
  it('sets cache.status on the server span: miss, then hit', async () => {
    const { cache, clock } = makeStack()
    const stop = instrumentCache(cache, { meter: telemetry.meter, name: `nest-${platform}` })
    const running = await startApp(
      platform,
      { imports: [CacheStackModule.forRoot({ cache })], controllers: [ItemsController] },
      { cache, clock },
    )
    try {
      expect((await running.client.get('/items')).headers['x-cache']).toBe('MISS')
      expect((await running.client.get('/items')).headers['x-cache']).toBe('HIT')
    } finally {
      stop()
      await running.close()
    }
    await telemetry.provider.forceFlush()
    const servers = telemetry
      .spans()
      .filter(
        (span) =>
          span.kind === SpanKind.SERVER &&
          span.attributes['server.port'] === running.port &&
          span.attributes['url.path'] === '/items',
      )
    expect(servers.map((span) => span.attributes['cache.status'])).toEqual(['miss', 'hit'])
  })
})

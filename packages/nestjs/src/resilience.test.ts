import 'reflect-metadata'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CacheStack, MemoryLayer, RedisLayer } from '@cachestack/core'
import { Controller, Get, Inject, Injectable, Module, Param } from '@nestjs/common'
import { APP_INTERCEPTOR } from '@nestjs/core'
import { ClientProxyFactory, MessagePattern, Payload, Transport } from '@nestjs/microservices'
import { lastValueFrom } from 'rxjs'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { freePort, startRedis } from '../../../tools/test-services.ts'
import { CacheInterceptor } from './cache-interceptor.ts'
import { CacheStackModule } from './cache-stack-module.ts'
import { Cacheable } from './cacheable.ts'
import { Calls, ItemsController, makeStack, PLATFORMS, type RunningApp, startApp } from './test-app.ts'
import { KeepAliveClient } from './test-client.ts'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

@Injectable()
class PricesService {
  calls = 0
  @Cacheable({ key: 'price', ttl: '1m' })
  async price(sku: string) {
    this.calls++
    return { sku, cents: 100 * sku.length }
  }
}

@Controller('prices')
class PricesController {
  readonly prices: PricesService
  readonly calls: Calls
  constructor(@Inject(PricesService) prices: PricesService, @Inject(Calls) calls: Calls) {
    this.prices = prices
    this.calls = calls
  }
  @Get(':sku')
  price(@Param('sku') sku: string) {
    return this.prices.price(sku)
  }

  @MessagePattern('sum')
  sum(@Payload() numbers: number[]) {
    this.calls.bump('sum')
    return numbers.reduce((a, b) => a + b, 0)
  }
}

describe.each(PLATFORMS)('on %s', (platform) => {
  it('runs the handler once for 1,000 concurrent identical requests and answers them all alike', async () => {
    const { cache, clock } = makeStack()
    const app = await startApp(
      platform,
      { imports: [CacheStackModule.forRoot({ cache })], controllers: [ItemsController] },
      { cache, clock },
    )
    cleanups.push(() => app.close())
    let open: () => void = () => {}
    app.calls.gate = new Promise((resolve) => (open = resolve))
    let arrived = 0
    app.app.getHttpServer().on('request', () => arrived++)
    // HTTP/1.1 carries one request at a time per connection: 1,000 in flight take 1,000 keep-alive sockets.
    const client = new KeepAliveClient(app.port, 1_000)
    cleanups.push(() => client.close())
    const answers = Promise.all(Array.from({ length: 1_000 }, () => client.get('/items/slow')))
    // Hold the one handler run until every request reached the server, so all 1,000 meet on one miss.
    await vi.waitFor(() => expect(arrived).toBe(1_000), { timeout: 15_000, interval: 5 })
    open()
    const responses = await answers
    expect(app.calls.of('slow')).toBe(1)
    expect(new Set(responses.map((r) => `${r.status} ${r.text}`))).toEqual(new Set(['200 {"call":1}']))
  })

  it('keeps answering from memory and from the handler when Redis goes down', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cachestack-nest-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const redis = await startRedis(dir)
    cleanups.push(() => redis.process.kill('SIGKILL'))
    const layer = new RedisLayer({
      prefix: `nest-${platform}:`,
      commandTimeout: '200ms',
      redisOptions: {
        host: '127.0.0.1',
        port: redis.port,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
      },
    })
    const cache = new CacheStack([new MemoryLayer(), layer])
    const running: RunningApp = await startApp(
      platform,
      {
        imports: [CacheStackModule.forRoot({ cache })],
        controllers: [ItemsController, PricesController],
        providers: [PricesService],
      },
      { cache, clock: { time: 0, now: () => Date.now() } },
    )
    cleanups.push(() => running.close())
    const { client } = running
    const warm = await client.get('/items')
    expect(warm.headers['x-cache']).toBe('MISS')
    expect((await client.get('/prices/abc')).status).toBe(200)
    redis.process.kill('SIGKILL')
    await new Promise((resolve) => redis.process.once('exit', resolve))
    const fromMemory = await client.get('/items')
    expect(fromMemory.status).toBe(200)
    expect(fromMemory.headers['x-cache']).toBe('HIT')
    expect(fromMemory.text).toBe(warm.text)
    const fromHandler = await client.get('/items/42')
    expect(fromHandler.status).toBe(200)
    expect(JSON.parse(fromHandler.text)).toEqual({ id: '42', call: 1 })
    const service = await client.get('/prices/abcdef')
    expect(service.status).toBe(200)
    expect(JSON.parse(service.text)).toEqual({ sku: 'abcdef', cents: 600 })
    expect((await client.get('/prices/abc')).status).toBe(200)
  })
})

describe('a global CacheInterceptor (APP_INTERCEPTOR)', () => {
  it('caches HTTP routes and passes microservice messages through untouched', async () => {
    const { cache, clock } = makeStack()
    @Module({
      imports: [CacheStackModule.forRoot({ cache }, true)],
      controllers: [PricesController, ItemsController],
      providers: [Calls, PricesService, { provide: APP_INTERCEPTOR, useClass: CacheInterceptor }],
    })
    class AppModule {}
    const seen: string[] = []
    const original = CacheInterceptor.prototype.intercept
    const spy = vi.spyOn(CacheInterceptor.prototype, 'intercept').mockImplementation(function (
      this: CacheInterceptor,
      context,
      next,
    ) {
      seen.push(context.getType())
      return original.call(this, context, next)
    })
    cleanups.push(() => spy.mockRestore())
    const running = await startApp('express', { imports: [AppModule] }, { cache, clock })
    cleanups.push(() => running.close())
    const first = await running.client.get('/prices/abc')
    const second = await running.client.get('/prices/abc')
    expect(first.headers['x-cache']).toBe('MISS')
    expect(second.headers['x-cache']).toBe('HIT')
    // Controller-level @UseInterceptors and the global one meet on ItemsController: still one handler run.
    await running.client.get('/items')
    expect((await running.client.get('/items')).headers['x-cache']).toBe('HIT')
    expect(running.calls.of('list')).toBe(1)

    const port = await freePort()
    // inheritAppConfig: the global interceptor also wraps the message handlers (where a naive HTTP cache breaks).
    running.app.connectMicroservice(
      { transport: Transport.TCP, options: { host: '127.0.0.1', port } },
      { inheritAppConfig: true },
    )
    await running.app.startAllMicroservices()
    const rpc = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } })
    cleanups.push(() => rpc.close())
    expect(await lastValueFrom(rpc.send('sum', [1, 2, 3]))).toBe(6)
    expect(await lastValueFrom(rpc.send('sum', [1, 2, 3]))).toBe(6)
    expect(running.calls.of('sum')).toBe(2)
    expect(seen).toContain('rpc')
  })
})

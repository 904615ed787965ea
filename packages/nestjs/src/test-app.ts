import 'reflect-metadata'
import { Readable } from 'node:stream'
import { CacheStack, type CacheStackOptions, MemoryLayer } from '@cachestack/core'
import type { INestApplication } from '@nestjs/common'
import {
  Controller,
  Get,
  Header,
  HttpCode,
  Inject,
  Injectable,
  type ModuleMetadata,
  NotFoundException,
  Param,
  Post,
  Req,
  Res,
  StreamableFile,
  UseInterceptors,
} from '@nestjs/common'
import { ExpressAdapter } from '@nestjs/platform-express'
import { FastifyAdapter } from '@nestjs/platform-fastify'
import { Test } from '@nestjs/testing'
import { CacheInterceptor } from './cache-interceptor.ts'
import { InvalidateTags } from './invalidate-tags.ts'
import { CacheKey, CacheOptions, CacheTags, CacheTTL, NoCache } from './route-decorators.ts'
import { KeepAliveClient } from './test-client.ts'

/** The two platforms every HTTP test runs on. */
export const PLATFORMS = ['express', 'fastify'] as const
export type Platform = (typeof PLATFORMS)[number]

/** Counts handler calls per route and holds a gate slow routes wait on. */
@Injectable()
export class Calls {
  readonly counts = new Map<string, number>()
  gate: Promise<void> = Promise.resolve()
  bump(name: string): number {
    const next = (this.counts.get(name) ?? 0) + 1
    this.counts.set(name, next)
    return next
  }
  of(name: string): number {
    return this.counts.get(name) ?? 0
  }
}

interface AnyRequest {
  headers: Record<string, string | string[] | undefined>
}

/** Writes through Express's `res` or Fastify's `reply`, as a handler using `@Res()` does. */
function sendSelf(res: any, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (typeof res.code === 'function') {
    res.code(status).headers(headers).send(body)
    return
  }
  res.status(status).set(headers).json(body)
}

function setHeader(res: any, name: string, value: string): void {
  if (typeof res.header === 'function' && res.raw) res.header(name, value)
  else res.setHeader(name, value)
}

function setStatus(res: any, status: number): void {
  if (typeof res.code === 'function') res.code(status)
  else res.status(status)
}

@Controller('items')
@UseInterceptors(CacheInterceptor)
export class ItemsController {
  readonly calls: Calls
  constructor(@Inject(Calls) calls: Calls) {
    this.calls = calls
  }

  @Get()
  @CacheTags('items')
  list(@Req() req: AnyRequest) {
    const call = this.calls.bump('list')
    return { call, user: req.headers.authorization ?? req.headers.cookie ?? null }
  }

  @Get('slow')
  async slow() {
    const call = this.calls.bump('slow')
    await this.calls.gate
    return { call }
  }

  @Get('passthrough')
  @Header('x-static', 'yes')
  passthrough(@Res({ passthrough: true }) res: any) {
    const call = this.calls.bump('passthrough')
    setStatus(res, 203)
    setHeader(res, 'x-custom', `c${call}`)
    setHeader(res, 'content-type', 'text/plain; charset=utf-8')
    return `plain ${call}`
  }

  @Get('self')
  self(@Res() res: any) {
    const call = this.calls.bump('self')
    sendSelf(res, 200, { call, self: true }, { 'x-self': 'yes' })
  }

  @Get('cookie')
  cookie(@Res({ passthrough: true }) res: any) {
    setHeader(res, 'set-cookie', 'session=secret')
    return { call: this.calls.bump('cookie') }
  }

  @Get('no-store')
  @Header('cache-control', 'no-store')
  noStore() {
    return { call: this.calls.bump('no-store') }
  }

  @Get('private-header')
  @Header('cache-control', 'private, max-age=60')
  privateHeader() {
    return { call: this.calls.bump('private-header') }
  }

  @Get('created')
  @HttpCode(201)
  created() {
    return { call: this.calls.bump('created') }
  }

  @Get('missing')
  missing() {
    this.calls.bump('missing')
    throw new NotFoundException('no such item')
  }

  @Get('big')
  big() {
    this.calls.bump('big')
    return { blob: 'x'.repeat(2 * 1024 * 1024) }
  }

  @Get('file')
  file() {
    const call = this.calls.bump('file')
    return new StreamableFile(Readable.from([Buffer.from(`file ${call} `), Buffer.from('bytes')]), {
      type: 'application/octet-stream',
    })
  }

  @Get('events')
  @Header('content-type', 'text/event-stream')
  events() {
    return `data: ${this.calls.bump('events')}\n\n`
  }

  @Get('no-cache')
  @NoCache()
  noCache() {
    return { call: this.calls.bump('no-cache') }
  }

  @Get('ttl')
  @CacheTTL(1_000)
  ttl() {
    return { call: this.calls.bump('ttl') }
  }

  @Get('fixed-key')
  @CacheKey('items:fixed')
  fixedKey() {
    return { call: this.calls.bump('fixed-key') }
  }

  @Get('mine')
  @CacheOptions({
    scope: 'private',
    session: (req: AnyRequest) => {
      const auth = req.headers.authorization
      return typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : undefined
    },
  })
  mine(@Req() req: AnyRequest) {
    return { call: this.calls.bump('mine'), user: req.headers.authorization }
  }

  @Get('swr')
  @CacheOptions({ ttl: 1_000, staleWhileRevalidate: 60_000 })
  swr() {
    return { call: this.calls.bump('swr') }
  }

  @Get('grace')
  @CacheOptions({ ttl: 1_000, grace: 60_000 })
  grace() {
    const call = this.calls.bump('grace')
    if (call > 1) throw new Error('data source down')
    return { call }
  }

  @Get(':id')
  one(@Param('id') id: string) {
    return { id, call: this.calls.bump(`one:${id}`) }
  }

  @Post()
  @InvalidateTags('items')
  create() {
    return { created: this.calls.bump('create') }
  }

  @Post('fail')
  @InvalidateTags('items')
  failCreate() {
    this.calls.bump('fail')
    throw new NotFoundException()
  }
}

/** A started Nest application listening on a loopback port, with a keep-alive client to it. */
export interface RunningApp {
  app: INestApplication
  port: number
  client: KeepAliveClient
  calls: Calls
  cache: CacheStack
  clock: { time: number; now(): number }
  close(): Promise<void>
}

/** Makes a stack on an injected clock. */
export function makeStack(options: CacheStackOptions = {}) {
  const clock = { time: 1_700_000_000_000, now: () => clock.time }
  return { clock, cache: new CacheStack([new MemoryLayer()], { clock, ...options }) }
}

/** Builds, starts and listens: `imports` must bring `CacheStackModule`. */
export async function startApp(
  platform: Platform,
  metadata: ModuleMetadata,
  extra: { cache: CacheStack; clock: RunningApp['clock'] },
): Promise<RunningApp> {
  const moduleRef = await Test.createTestingModule({
    ...metadata,
    // An app built from a module of its own (`imports` only) provides `Calls` there.
    providers: metadata.controllers ? [Calls, ...(metadata.providers ?? [])] : metadata.providers,
  }).compile()
  const app = moduleRef.createNestApplication(
    platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(),
    { logger: process.env.NEST_LOG ? undefined : false },
  )
  await app.listen(0, '127.0.0.1')
  const port = (app.getHttpServer().address() as { port: number }).port
  const client = new KeepAliveClient(port)
  return {
    app,
    port,
    client,
    calls: app.get(Calls, { strict: false }),
    ...extra,
    close: async () => {
      client.close()
      await app.close()
    },
  }
}

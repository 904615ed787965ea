import 'reflect-metadata'
import type { Server } from 'node:http'
import { Readable } from 'node:stream'
import type { CacheStack } from '@cachestack/core'
import {
  type ContractAnswer,
  type ContractApp,
  describeHttpAdapterContract,
  type FrameworkView,
  type HttpAdapterHarness,
  type PoisonableApp,
} from '@cachestack/core/testing'
import { Controller, Get, Post, Req, Res, StreamableFile, UseInterceptors } from '@nestjs/common'
import { ExpressAdapter } from '@nestjs/platform-express'
import { FastifyAdapter } from '@nestjs/platform-fastify'
import { Test } from '@nestjs/testing'
import { CacheInterceptor } from './cache-interceptor.ts'
import { CacheStackModule } from './cache-stack-module.ts'
import { CacheOptions } from './route-decorators.ts'
import type { Platform } from './test-app.ts'

interface AnyRequest {
  method: string
  url: string
  originalUrl?: string
  headers: Record<string, string | string[] | undefined>
}

function header(req: unknown, name: string): string | undefined {
  const value = (req as AnyRequest).headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

function isFastify(res: any): boolean {
  return typeof res.code === 'function' && typeof res.raw === 'object'
}

function setStatusAndHeaders(res: any, answer: ContractAnswer): void {
  if (isFastify(res)) {
    res.code(answer.status)
    for (const [name, value] of answer.headers) res.header(name, value)
  } else {
    res.status(answer.status)
    for (const [name, value] of answer.headers) res.setHeader(name, value)
  }
}

/** A Nest app whose `/c/*` routes are answered by the contract, through the interceptor. */
function contractController(app: ContractApp, platform: Platform) {
  // Express 5 names its wildcard; Fastify's router takes a bare trailing `*`.
  const rest = platform === 'express' ? '*rest' : '*'
  const ask = (req: AnyRequest) =>
    app.handle({ method: req.method, url: req.originalUrl ?? req.url, header: (name) => header(req, name) })

  // Every way a Nest handler answers: a returned value (passthrough for status and headers), writing
  // through @Res() itself, and a StreamableFile streamed in pieces.
  async function answer(req: AnyRequest, res: any): Promise<unknown> {
    const reply = await ask(req)
    setStatusAndHeaders(res, reply)
    switch (reply.write) {
      case 'return':
        return reply.body
      case 'return-buffer':
        return Buffer.from(reply.body)
      case 'streamable':
        return new StreamableFile(Readable.from(reply.chunks.map((chunk) => Buffer.from(chunk))))
      default:
        throw new Error(`unknown write ${reply.write}`)
    }
  }

  @Controller('c')
  @UseInterceptors(CacheInterceptor)
  class ContractController {
    @Get(rest)
    @CacheOptions(app.options)
    read(@Req() req: AnyRequest, @Res({ passthrough: true }) res: unknown) {
      return answer(req, res)
    }

    @Post(rest)
    @CacheOptions(app.mutationOptions)
    write(@Req() req: AnyRequest, @Res({ passthrough: true }) res: unknown) {
      return answer(req, res)
    }
  }
  return ContractController
}

/** The poisoning suite's page: everything the platform told the handler, rendered by the suite. */
function pageController(app: PoisonableApp, platform: Platform) {
  const view = (req: any): FrameworkView => {
    const url: string = platform === 'express' ? req.originalUrl : req.url
    const q = url.indexOf('?')
    return {
      method: req.method,
      origin: `${req.protocol}://${req.host}`,
      url,
      path: platform === 'express' ? req.path : q === -1 ? url : url.slice(0, q),
      query: req.query,
      body: req.body ?? null,
      header: (name) => header(req, name),
    }
  }
  const render = (req: unknown, res: any) => {
    if (isFastify(res)) res.header('content-type', 'text/html; charset=utf-8')
    else res.type('html')
    return app.render(view(req))
  }
  const options = app.options
  if (!options) {
    @Controller()
    class UncachedPage {
      @Get('page')
      page(@Req() req: unknown, @Res({ passthrough: true }) res: unknown) {
        return render(req, res)
      }
    }
    return UncachedPage
  }
  const routeOptions: Readonly<Record<string, unknown>> = options
  @Controller()
  @UseInterceptors(CacheInterceptor)
  class CachedPage {
    @Get('page')
    @CacheOptions(routeOptions)
    page(@Req() req: unknown, @Res({ passthrough: true }) res: unknown) {
      return render(req, res)
    }
  }
  return CachedPage
}

function harnessFor(platform: Platform): HttpAdapterHarness {
  return {
    // Nest's Express adapter sends a returned Buffer as JSON, so only Fastify gets `return-buffer`.
    oneCall: platform === 'express' ? ['return'] : ['return', 'return-buffer'],
    manyWrites: ['streamable'],
    header,
    async startPoisonable(app) {
      const moduleRef = await Test.createTestingModule({
        imports: [CacheStackModule.forRoot({ cache: app.cache, disconnectOnShutdown: false })],
        controllers: [pageController(app, platform)],
      }).compile()
      // Set up as behind a proxy: trust proxy on, Nest's default JSON body parsing.
      const nest = moduleRef.createNestApplication(
        platform === 'fastify' ? new FastifyAdapter({ trustProxy: '127.0.0.1' }) : new ExpressAdapter(),
        { logger: false },
      )
      if (platform === 'express') nest.getHttpAdapter().getInstance().set('trust proxy', 'loopback')
      await nest.listen(0, '127.0.0.1')
      return { server: nest.getHttpServer() as Server, close: () => nest.close() }
    },
    async start(app) {
      const moduleRef = await Test.createTestingModule({
        imports: [
          CacheStackModule.forRoot({
            cache: app.cache as CacheStack,
            disconnectOnShutdown: false,
            stats: { path: '/stats', authorize: app.authorize },
          }),
        ],
        controllers: [contractController(app, platform)],
      }).compile()
      const nest = moduleRef.createNestApplication(
        platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(),
        { logger: false },
      )
      await nest.listen(0, '127.0.0.1')
      return { server: nest.getHttpServer() as Server, close: () => nest.close() }
    },
  }
}

describeHttpAdapterContract('nestjs (express)', harnessFor('express'))
describeHttpAdapterContract('nestjs (fastify)', harnessFor('fastify'))

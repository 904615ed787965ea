import 'reflect-metadata'
import type { Server } from 'node:http'
import type { CacheStack } from '@cachestack/core'
import { describeHttpPoisoningContract, type PoisoningHarness } from '@cachestack/core/testing'
import { Controller, Get, Header, Req, UseInterceptors } from '@nestjs/common'
import { ExpressAdapter } from '@nestjs/platform-express'
import { FastifyAdapter } from '@nestjs/platform-fastify'
import { Test } from '@nestjs/testing'
import { CacheInterceptor } from './cache-interceptor.ts'
import { CacheStackModule } from './cache-stack-module.ts'
import { CacheOptions, NoCache } from './route-decorators.ts'
import type { Platform } from './test-app.ts'

function harnessFor(platform: Platform): PoisoningHarness {
  return {
    async startPoisonable(app) {
      const render = (req: any) => {
        const url: string = req.originalUrl ?? req.url
        const q = url.indexOf('?')
        return app.render({
          method: req.method,
          origin: `${req.protocol}://${req.host}`,
          url,
          path: platform === 'express' ? req.path : q === -1 ? url : url.slice(0, q),
          query: req.query,
          body: req.body ?? null,
          header: (name) => {
            const value = req.headers[name]
            return Array.isArray(value) ? value.join(', ') : value
          },
        })
      }
      // The page route is cached with the suite's options, or left out of caching when they are null.
      const decorator = app.options ? CacheOptions(app.options) : NoCache()
      @Controller()
      @UseInterceptors(CacheInterceptor)
      class PageController {
        @Get('page')
        @Header('content-type', 'text/html; charset=utf-8')
        @decorator
        page(@Req() req: unknown) {
          return render(req)
        }
      }
      const moduleRef = await Test.createTestingModule({
        imports: [CacheStackModule.forRoot({ cache: app.cache as CacheStack, disconnectOnShutdown: false })],
        controllers: [PageController],
      }).compile()
      const nest = moduleRef.createNestApplication(
        platform === 'fastify' ? new FastifyAdapter({ trustProxy: true }) : new ExpressAdapter(),
        { logger: false },
      )
      if (platform === 'express') (nest.getHttpAdapter().getInstance() as any).set('trust proxy', true)
      await nest.listen(0, '127.0.0.1')
      return { server: nest.getHttpServer() as Server, close: () => nest.close() }
    },
  }
}

describeHttpPoisoningContract('nestjs (express)', harnessFor('express'))
describeHttpPoisoningContract('nestjs (fastify)', harnessFor('fastify'))

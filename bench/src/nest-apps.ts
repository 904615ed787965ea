// The Nest app of the NestJS scenario: one application (Express or Fastify platform) with three routes
// over the same 5 ms data source — behind @cachestack/nestjs's CacheInterceptor, behind
// @nestjs/cache-manager's CacheInterceptor (in-memory cache-manager, its default store), and uncached.
// Built without decorator syntax (the bench runs under Node's type stripping): Nest's decorators are
// applied as the functions they are.
import 'reflect-metadata'
import type { AddressInfo } from 'node:net'
import { CacheStack, MemoryLayer } from '@cachestack/core'
import { CacheInterceptor, CacheStackModule } from '@cachestack/nestjs'
import { CacheModule, CacheInterceptor as NestCacheInterceptor } from '@nestjs/cache-manager'
import { Controller, Get, type INestApplication, Module, UseInterceptors } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { ExpressAdapter } from '@nestjs/platform-express'
import { FastifyAdapter } from '@nestjs/platform-fastify'
import { DB_MS } from './http-apps.ts'
import { makeValue } from './value.ts'

export type NestPlatform = 'express' | 'fastify'
export type NestRoute = 'cachestack' | 'cache-manager' | 'plain'

/** Paths of the three routes; `?k=` makes a fresh key for the cold bursts. */
export const NEST_PATHS: Record<NestRoute, string> = {
  cachestack: '/cachestack',
  'cache-manager': '/cache-manager',
  plain: '/plain',
}

/** A running Nest app and its handler calls per route. */
export interface NestBenchApp {
  platform: NestPlatform
  port: number
  calls(route: NestRoute): number
  close(): Promise<void>
}

const TEN_MINUTES = 600_000

export async function startNestApp(platform: NestPlatform): Promise<NestBenchApp> {
  const calls = new Map<NestRoute, number>()
  const data = async (route: NestRoute) => {
    calls.set(route, (calls.get(route) ?? 0) + 1)
    await new Promise((resolve) => setTimeout(resolve, DB_MS))
    return makeValue(2)
  }

  class BenchController {
    cachestack() {
      return data('cachestack')
    }
    cacheManager() {
      return data('cache-manager')
    }
    plain() {
      return data('plain')
    }
  }
  const proto = BenchController.prototype
  const route = (method: keyof BenchController, path: string, interceptor?: unknown) => {
    const descriptor = Object.getOwnPropertyDescriptor(proto, method) as PropertyDescriptor
    Get(path)(proto, method, descriptor)
    if (interceptor) UseInterceptors(interceptor as never)(proto, method, descriptor)
  }
  route('cachestack', NEST_PATHS.cachestack, CacheInterceptor)
  route('cacheManager', NEST_PATHS['cache-manager'], NestCacheInterceptor)
  route('plain', NEST_PATHS.plain)
  Controller()(BenchController)

  const cache = new CacheStack([new MemoryLayer()], { ttl: '10m' })
  class BenchModule {}
  Module({
    imports: [CacheStackModule.forRoot({ cache }), CacheModule.register({ ttl: TEN_MINUTES })],
    controllers: [BenchController],
  })(BenchModule)

  const app: INestApplication = await NestFactory.create(
    BenchModule,
    platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(),
    { logger: false },
  )
  await app.listen(0, '127.0.0.1')
  return {
    platform,
    port: (app.getHttpServer().address() as AddressInfo).port,
    calls: (name) => calls.get(name) ?? 0,
    close: () => app.close(),
  }
}

import type { CacheStack } from '@cachestack/core'
import { isAuthorized, statsResponse } from '@cachestack/core/http'
import { Controller, Get, Inject, Req, Res, type Type } from '@nestjs/common'
import { writeAnswer } from './http-exchange.ts'
import { DEFAULT_STATS_PATH, type StatsRouteOptions } from './module-options.ts'
import { NoCache } from './route-decorators.ts'
import { CACHE_STACK } from './tokens.ts'

/**
 * A controller answering `cache.getStats()` at `path`: 403 unless `authorize(request)` returns true, and
 * always `Cache-Control: no-store` and `X-Content-Type-Options: nosniff`. Built as a real controller so the
 * app's global prefix, guards and filters apply to it as to any route.
 */
export function statsController(options: StatsRouteOptions): Type<unknown> {
  const { authorize } = options
  class CacheStatsController {
    readonly #cache: CacheStack
    constructor(cache: CacheStack) {
      this.#cache = cache
    }
    async stats(request: unknown, response: unknown): Promise<void> {
      writeAnswer(response, statsResponse(this.#cache, await isAuthorized(authorize, request)))
    }
  }
  const proto = CacheStatsController.prototype
  const descriptor = Object.getOwnPropertyDescriptor(proto, 'stats') as PropertyDescriptor
  Get(options.path ?? DEFAULT_STATS_PATH)(proto, 'stats', descriptor)
  Req()(proto, 'stats', 0)
  Res()(proto, 'stats', 1)
  NoCache()(CacheStatsController)
  Controller()(CacheStatsController)
  Inject(CACHE_STACK)(CacheStatsController, undefined, 0)
  return CacheStatsController
}

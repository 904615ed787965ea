import { ValidationError } from '../errors.ts'
import { assertKnownOptions, optionNames } from '../internal/known-options.ts'
import { assertCacheStore, type HttpCacheStore } from './options.ts'
import type { OutgoingResponse } from './reply.ts'

/** Headers every stats answer carries: stats are never cached by anyone, and never sniffed as HTML. */
export const STATS_HEADERS: readonly [string, string][] = [
  ['cache-control', 'no-store'],
  ['x-content-type-options', 'nosniff'],
]

/**
 * The stats route's answer: the stack's `getStats()` as JSON when `allowed`, an empty 403 otherwise.
 * Adapters call `authorize(req)` and hand the verdict here, so every framework answers the same bytes.
 */
export function statsResponse(cache: HttpCacheStore, allowed: boolean): OutgoingResponse {
  const headers: [string, string][] = [...STATS_HEADERS]
  if (!allowed) {
    const body = Buffer.from(JSON.stringify({ error: 'Forbidden' }))
    headers.push(['content-type', 'application/json; charset=utf-8'], ['content-length', String(body.length)])
    return { status: 403, headers, body }
  }
  const body = Buffer.from(JSON.stringify(cache.getStats()))
  headers.push(['content-type', 'application/json; charset=utf-8'], ['content-length', String(body.length)])
  return { status: 200, headers, body }
}

/** Runs an `authorize(req)` predicate: anything but `true` (a throw included) denies. */
export async function isAuthorized<Req>(
  authorize: ((req: Req) => boolean | Promise<boolean>) | undefined,
  req: Req,
): Promise<boolean> {
  if (!authorize) return false
  try {
    return (await authorize(req)) === true
  } catch {
    return false
  }
}

/** Options of every adapter's `statsRoute`. */
export interface StatsRouteConfig<Req> {
  /** The stack whose `getStats()` is served. */
  cache: HttpCacheStore
  /** Must return `true` for the stats to be served; anything else (a throw included) answers 403. */
  authorize: (req: Req) => boolean | Promise<boolean>
}

const STATS_ROUTE_NAMES = optionNames<StatsRouteConfig<unknown>>({ cache: true, authorize: true })

/**
 * Checks a stats route's options once, at mounting, and returns what answers a request: the adapter only
 * writes the answer in its framework's way.
 */
export function statsResponder<Req>(config: StatsRouteConfig<Req>): (req: Req) => Promise<OutgoingResponse> {
  if (!config || typeof config !== 'object') throw new ValidationError('options must be an object', 'options')
  assertKnownOptions(config, STATS_ROUTE_NAMES, 'an option of statsRoute()')
  const { cache, authorize } = config
  assertCacheStore(cache)
  if (typeof authorize !== 'function') {
    throw new ValidationError(
      '"authorize" must be a function: stats are never public by default',
      'authorize',
    )
  }
  return async (req) => statsResponse(cache, await isAuthorized(authorize, req))
}

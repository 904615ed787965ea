// The rate-limit middleware of every adapter, written once: which key a request counts against, the
// `rateLimit` call, and the answer's headers. Adapters only read the client address their framework
// trusts and write the headers (and the 429) their own way.

import type { RateLimitOptions, RateLimitResult } from '../coordination/rate-limit.ts'
import { ValidationError } from '../errors.ts'
import { assertKnownOptions, optionNames } from '../internal/known-options.ts'
import { type Duration, parseDuration } from '../internal/units.ts'
import type { Clock } from '../layer.ts'
import type { OutgoingResponse } from './reply.ts'
import type { HeaderList } from './stored-response.ts'

/** What the middleware needs of a stack: `rateLimit` and its clock (a `CacheStack` or a namespace of one). */
export interface RateLimitStore {
  rateLimit(options: RateLimitOptions): Promise<RateLimitResult>
  readonly clock: Clock
}

/** Options of every adapter's `rateLimit` middleware. */
export interface RateLimitRouteOptions<Req> {
  /** The stack counting requests (its Redis layer makes the limit hold across instances). */
  cache: RateLimitStore
  /** Requests allowed per client in any `window`. */
  limit: number
  /** Length of the sliding window. */
  window: Duration
  /**
   * What a request counts against. Return `undefined` to let a request through uncounted (health checks,
   * trusted callers). @default the client address as the framework reports it under its trust-proxy
   * setting (Express `req.ip`, Fastify `request.ip`, Hono: the socket's address); IPv6 grouped by /64
   */
  key?: ((req: Req) => string | undefined | Promise<string | undefined>) | undefined
  /** Prepended to every key, so several limits can share a stack. @default 'http:' */
  prefix?: string | undefined
  /** The answer while Redis fails: `'allow'` (fail-open) or `'deny'` (429). @default 'allow' */
  onError?: 'allow' | 'deny' | undefined
  /** Name of the quota in the `RateLimit` and `RateLimit-Policy` fields. @default 'default' */
  policy?: string | undefined
}

/** What the middleware decided for one request. */
export interface RateLimitDecision {
  /** False when the request must be answered with `response` (a 429). */
  allowed: boolean
  /** Headers for the response, allowed or not (none for an uncounted request). */
  headers: HeaderList
  /** The 429 answer when `allowed` is false. */
  response?: OutgoingResponse
}

const ROUTE_OPTION_NAMES = optionNames<RateLimitRouteOptions<unknown>>({
  cache: true,
  limit: true,
  window: true,
  key: true,
  prefix: true,
  onError: true,
  policy: true,
})

/** @default prefix of the rate-limit middleware's keys. */
export const DEFAULT_RATE_LIMIT_PREFIX = 'http:'

/**
 * The middleware's decision for each request, its options checked once at mounting. `clientAddress`
 * is the adapter's default key: the address its framework trusts (never `X-Forwarded-For` unless the
 * app told the framework to trust its proxy).
 */
export function rateLimiter<Req>(
  options: RateLimitRouteOptions<Req>,
  clientAddress: (req: Req) => string | undefined,
): (req: Req) => Promise<RateLimitDecision> {
  if (!options || typeof options !== 'object')
    throw new ValidationError('options must be an object', 'options')
  assertKnownOptions(options, ROUTE_OPTION_NAMES, 'an option of rateLimit()')
  const { cache, limit, onError, key, prefix = DEFAULT_RATE_LIMIT_PREFIX, policy = 'default' } = options
  if (!cache || typeof cache.rateLimit !== 'function' || typeof cache.clock?.now !== 'function') {
    throw new ValidationError('"cache" must be a CacheStack or a namespace of one', 'cache')
  }
  if (key !== undefined && typeof key !== 'function')
    throw new ValidationError('"key" must be a function', 'key')
  if (typeof prefix !== 'string') throw new ValidationError('"prefix" must be a string', 'prefix')
  if (typeof policy !== 'string' || !/^[\x20-\x7e]+$/.test(policy)) {
    throw new ValidationError('"policy" must be a non-empty string of printable ASCII', 'policy')
  }
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new ValidationError(`"limit" must be a positive integer; got ${String(limit)}`, 'limit')
  }
  const window = Math.ceil(parseDuration(options.window, 'window'))
  if (window < 1) throw new ValidationError('"window" must be at least 1ms', 'window')
  if (onError !== undefined && onError !== 'allow' && onError !== 'deny') {
    throw new ValidationError(`"onError" must be 'allow' or 'deny'; got ${String(onError)}`, 'onError')
  }
  const resolve = key ?? ((req: Req) => groupAddress(clientAddress(req)))
  const quoted = JSON.stringify(policy)
  const policyField = `${quoted};q=${limit};w=${Math.ceil(window / 1000)}`

  return async (req) => {
    const id = await resolve(req)
    if (id === undefined || id === '') return { allowed: true, headers: [] }
    const result = await cache.rateLimit({ key: prefix + id, limit, window, onError })
    const reset = Math.max(0, Math.ceil((result.resetAt - cache.clock.now()) / 1000))
    const headers: HeaderList = [
      // draft-ietf-httpapi-ratelimit-headers: the current fields (-08 and later)...
      ['ratelimit-policy', policyField],
      ['ratelimit', `${quoted};r=${result.remaining};t=${reset}`],
      // ...and the three separate fields of the earlier drafts (-06), which most clients read today.
      ['ratelimit-limit', String(limit)],
      ['ratelimit-remaining', String(result.remaining)],
      ['ratelimit-reset', String(reset)],
    ]
    if (result.allowed) return { allowed: true, headers }
    const body = Buffer.from('Too Many Requests')
    return {
      allowed: false,
      headers,
      response: {
        status: 429,
        headers: [
          ...headers,
          ['retry-after', String(Math.max(1, Math.ceil(result.retryAfter / 1000)))],
          ['cache-control', 'no-store'],
          ['content-type', 'text/plain; charset=utf-8'],
          ['content-length', String(body.length)],
        ],
        body,
      },
    }
  }
}

/**
 * The key of a client address: IPv4 (also when written IPv4-mapped, `::ffff:1.2.3.4`) as is; IPv6 by its
 * /64 network, the block one subscriber usually gets, so hopping addresses inside it does not reset the count.
 */
export function groupAddress(address: string | undefined): string | undefined {
  if (address === undefined || address === '') return undefined
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped) return mapped[1]
  if (!address.includes(':')) return address
  const groups = expandIpv6(address.split('%')[0]!)
  return groups === undefined ? address : `${groups.slice(0, 4).join(':')}::/64`
}

function expandIpv6(address: string): string[] | undefined {
  const halves = address.toLowerCase().split('::')
  if (halves.length > 2) return undefined
  const head = halves[0] === '' ? [] : halves[0]!.split(':')
  const tail = halves.length === 2 && halves[1] !== '' ? halves[1]!.split(':') : []
  const missing = 8 - head.length - tail.length
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined
  const groups = [...head, ...Array<string>(missing).fill('0'), ...tail]
  return groups.map((group) => group.replace(/^0+(?=.)/, ''))
}

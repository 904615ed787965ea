import {
  captureAnswer,
  describeRequest,
  type HandlerRun,
  type HeaderList,
  type HealthRouteConfig,
  healthResponder,
  type OutgoingResponse,
  type RateLimitRouteOptions,
  ResponseCache,
  type ResponseCacheConfig,
  rateLimiter,
  type StatsRouteConfig,
  statsResponder,
} from '@cachestack/core/http'
import type { Context, Handler, MiddlewareHandler } from 'hono'

/** Options of `cache`: the stack plus the shared response caching options (docs/http.md). */
export type CacheOptions = ResponseCacheConfig<Context, Response>

/** Options of `statsRoute`: the stack and the `authorize(c)` check. */
export type StatsRouteOptions = StatsRouteConfig<Context>

function requestInfo(c: Context) {
  const url = new URL(c.req.url)
  return describeRequest({
    method: c.req.method,
    // `href` keeps a bare trailing `?` that `search` drops; the handler's `c.req.url` shows it too.
    target: url.href.slice(url.origin.length),
    headers: (name) => c.req.header(name),
    host: c.req.header('host') ?? url.host,
    // What the handler sees in `c.req.url`: on Node an absolute-form target (`GET http://other.example/p`)
    // puts its own origin there while `Host` still names ours.
    origin: url.origin,
    raw: c,
  })
}

function toResponse(response: OutgoingResponse): Response {
  const headers = new Headers()
  for (const [name, value] of response.headers) headers.append(name, value)
  return new Response(response.body as Uint8Array<ArrayBuffer> | null, { status: response.status, headers })
}

// Hono merges the old response's headers into a new one assigned to `c.res`; clearing it first makes
// the replacement exact (a stale replay must not carry the failed answer's headers).
function replace(c: Context, response: Response): void {
  c.res = undefined
  c.res = response
}

function addHeaders(c: Context, headers: HeaderList): void {
  for (const [name, value] of headers) c.header(name, value)
}

/** Captures `c.res`; past the cap (or for an event stream) leaves a stream of the whole body in `c.res`. */
async function captureResponse(c: Context, maxBodySize: number): Promise<HandlerRun<Response>> {
  const res = c.res
  const headers: HeaderList = [...res.headers].map(([name, value]) => [name.toLowerCase(), value])
  const { run, replacement } = await captureAnswer(
    { status: res.status, headers, body: res.body },
    maxBodySize,
    res,
  )
  if (replacement) replace(c, new Response(ReadableStream.from(replacement), res))
  return run
}

// Contexts whose remaining chain runs again as a background refresh.
const refreshing = new WeakSet<Context>()

/**
 * Hono middleware caching responses in a `CacheStack` on Node (no Web Cache API needed): safe by default
 * (GET/HEAD, 200, no credentials), whatever the handler answers with (`c.json`, `c.text`, `c.body`, a stream).
 */
export function cache(options: CacheOptions): MiddlewareHandler {
  const engine = new ResponseCache<Context, Response>(options)
  const maxBodySize = engine.options.maxBodySize

  return async (c, next) => {
    // A refresh passes through any other cache middleware on its way to the handler.
    if (refreshing.has(c)) return next()
    const info = requestInfo(c)
    const decision = engine.decide(info)
    if (decision.action === 'bypass') {
      await next()
      return addHeaders(c, engine.passThrough('BYPASS', decision.reason))
    }
    if (decision.action === 'invalidate') {
      await next()
      return engine.afterMutation(info, c.res.status, c.res)
    }
    let produced = false
    let leave = () => {}
    const left = new Promise<void>((resolve) => (leave = resolve))
    try {
      const outcome = await engine.serve(info, {
        produce: async () => {
          produced = true
          await next()
          const run = await captureResponse(c, maxBodySize)
          if (run.kind === 'streamed') addHeaders(c, engine.passThrough('MISS', run.reason))
          return run
        },
        // A middleware cannot run its handler twice, but this request never called `next()` when it was
        // answered stale: the rest of its chain runs now, once the stale answer has gone out.
        refresh: async () => {
          await left
          await answerSent(c)
          c.res = undefined
          c.finalized = false
          refreshing.add(c)
          await next()
          return captureResponse(c, maxBodySize)
        },
      })
      if (outcome.action === 'send') return replace(c, toResponse(outcome.response))
      if (outcome.action === 'run' && !produced) {
        await next()
        addHeaders(c, outcome.headers)
      }
    } finally {
      leave()
    }
  }
}

/**
 * Resolves once the server has taken this request's answer: on @hono/node-server when the Node response
 * is finished or closed; elsewhere after the current turn, once Hono has read `c.res`.
 */
function answerSent(c: Context): Promise<void> {
  const outgoing = (c.env as { outgoing?: NodeLikeResponse } | undefined)?.outgoing
  if (!outgoing || typeof outgoing.once !== 'function') return new Promise((resolve) => setImmediate(resolve))
  if (outgoing.writableFinished || outgoing.destroyed) return Promise.resolve()
  return new Promise((resolve) => {
    outgoing.once('finish', () => resolve())
    outgoing.once('close', () => resolve())
  })
}

interface NodeLikeResponse {
  readonly writableFinished?: boolean
  readonly destroyed?: boolean
  once(event: 'finish' | 'close', listener: () => void): unknown
}

/**
 * A handler answering `cache.getStats()` as JSON, 403 unless `authorize(c)` returns true; always
 * `Cache-Control: no-store` and `X-Content-Type-Options: nosniff`.
 */
export function statsRoute(options: StatsRouteOptions): Handler {
  const respond = statsResponder(options)
  return async (c) => toResponse(await respond(c))
}

/** Options of `rateLimit`: the stack, `limit`, `window`, and an optional `key(c)` (default: the socket's address). */
export type RateLimitOptions = RateLimitRouteOptions<Context>

/**
 * Hono middleware answering 429 (with `Retry-After` and the `RateLimit` fields) once a client made
 * `limit` requests in the sliding `window`. Hono has no trust-proxy setting, so the default key is the
 * address of the socket on @hono/node-server, never a forwarding header; behind a proxy, or on another
 * runtime, give `key` (a request whose key is `undefined` is not counted).
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler {
  const decide = rateLimiter(options, socketAddress)
  return async (c, next) => {
    const decision = await decide(c)
    if (!decision.allowed) return toResponse(decision.response!)
    await next()
    for (const [name, value] of decision.headers) c.header(name, value)
  }
}

function socketAddress(c: Context): string | undefined {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming
  return incoming?.socket?.remoteAddress
}

/** Options of `healthRoute`: the stack, the probe (`'readiness'` or `'liveness'`) and its tolerance. */
export type HealthRouteOptions = HealthRouteConfig

/**
 * A Kubernetes-style probe: `'readiness'` answers 200 while every layer answers and the bus hears, 503
 * otherwise; `'liveness'` answers 200 while the process does. JSON body, `Cache-Control: no-store`.
 */
export function healthRoute(options: HealthRouteOptions): Handler {
  const respond = healthResponder(options)
  return async () => toResponse(await respond())
}

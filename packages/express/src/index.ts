import {
  captureServerResponse,
  deleteConditionalHeaders,
  describeRequest,
  dispatchDetached,
  type HeaderList,
  type HealthRouteConfig,
  healthResponder,
  type NodeRequestHandler,
  type RateLimitRouteOptions,
  ResponseCache,
  type ResponseCacheConfig,
  rateLimiter,
  type StatsRouteConfig,
  statsResponder,
  withoutConditionalHeaders,
  writeServerResponse,
} from '@cachestack/core/http'
import type { NextFunction, Request, RequestHandler, Response } from 'express'

/** Options of `cacheResponses`: the stack plus the shared response caching options (docs/http.md). */
export type CacheResponsesOptions = ResponseCacheConfig<Request, Response>

/** Options of `statsRoute`: the stack and the `authorize(req)` check. */
export type StatsRouteOptions = StatsRouteConfig<Request>

function requestInfo(req: Request) {
  return describeRequest({
    method: req.method,
    target: req.originalUrl ?? req.url,
    headers: req.headers,
    // Express's own view under its `trust proxy` setting: what `req.protocol` and `req.host` tell the handler.
    origin: `${req.protocol}://${req.host ?? ''}`,
    raw: req,
  })
}

function setHeaders(res: Response, headers: HeaderList): void {
  for (const [name, value] of headers) res.setHeader(name, value)
}

/**
 * Express middleware caching responses in a `CacheStack`: safe by default (GET/HEAD, 200, no credentials),
 * whatever the handler writes with (`res.json`, `res.send`, `res.end`, `res.write`, a piped stream).
 */
export function cacheResponses(options: CacheResponsesOptions): RequestHandler {
  const engine = new ResponseCache<Request, Response>(options)
  const maxBodySize = engine.options.maxBodySize

  const capture = (res: Response, headers: (reason: string) => HeaderList) =>
    captureServerResponse(res, { maxBodySize, passThroughHeaders: headers })

  async function handle(req: Request, res: Response, next: NextFunction): Promise<void> {
    const info = requestInfo(req)
    const role = engine.refreshRole(info)
    if (role.role === 'foreign') return next()
    if (role.role === 'owner') {
      capture(res, () => []).then(role.deliver)
      return next()
    }
    const decision = engine.decide(info)
    if (decision.action === 'bypass') {
      setHeaders(res, engine.passThrough('BYPASS', decision.reason))
      return next()
    }
    if (decision.action === 'invalidate') {
      const run = captureServerResponse(res, {
        maxBodySize,
        passThroughHeaders: () => [],
        beforePassThrough: (status) => engine.afterMutation(info, status, res),
        settleOnClose: false,
      })
      next()
      const result = await run
      if (result.kind !== 'captured') return
      await engine.afterMutation(info, result.response.status, res)
      return writeServerResponse(res, result.response)
    }
    const outcome = await engine.serve(info, {
      produce: () => {
        deleteConditionalHeaders(req.headers)
        const run = capture(res, (reason) => engine.passThrough('MISS', reason))
        next()
        return run
      },
      dispatch: (extra) => {
        const app = req.app as unknown as { handle: NodeRequestHandler }
        const handle: NodeRequestHandler = (copy, out, done) => app.handle(copy, out, done)
        dispatchDetached(handle, req.originalUrl, withoutConditionalHeaders(req.headers, extra), req.socket)
      },
    })
    if (outcome.action === 'send') return writeServerResponse(res, outcome.response)
    if (outcome.action === 'run') {
      setHeaders(res, outcome.headers)
      return next()
    }
  }

  return (req, res, next) => {
    handle(req, res, next).catch(next)
  }
}

/**
 * A handler answering `cache.getStats()` as JSON, 403 unless `authorize(req)` returns true; always
 * `Cache-Control: no-store` and `X-Content-Type-Options: nosniff`.
 */
export function statsRoute(options: StatsRouteOptions): RequestHandler {
  const respond = statsResponder(options)
  return (req, res, next) => {
    respond(req)
      .then((answer) => writeServerResponse(res, answer))
      .catch(next)
  }
}

/** Options of `rateLimit`: the stack, `limit`, `window`, and an optional `key(req)` (default: `req.ip`). */
export type RateLimitOptions = RateLimitRouteOptions<Request>

/**
 * Express middleware answering 429 (with `Retry-After` and the `RateLimit` fields) once a client made
 * `limit` requests in the sliding `window`; every counted response carries the fields. Keyed by `req.ip`
 * by default, which follows the app's `trust proxy` setting (off: the socket's address).
 */
export function rateLimit(options: RateLimitOptions): RequestHandler {
  const decide = rateLimiter(options, (req: Request) => req.ip)
  return (req, res, next) => {
    decide(req).then((decision) => {
      if (!decision.allowed) return writeServerResponse(res, decision.response!)
      setHeaders(res, decision.headers)
      next()
    }, next)
  }
}

/** Options of `healthRoute`: the stack, the probe (`'readiness'` or `'liveness'`) and its tolerance. */
export type HealthRouteOptions = HealthRouteConfig

/**
 * A Kubernetes-style probe: `'readiness'` answers 200 while every layer answers and the bus hears, 503
 * otherwise; `'liveness'` answers 200 while the process does. JSON body, `Cache-Control: no-store`.
 */
export function healthRoute(options: HealthRouteOptions): RequestHandler {
  const respond = healthResponder(options)
  return (_req, res, next) => {
    respond()
      .then((answer) => writeServerResponse(res, answer))
      .catch(next)
  }
}

import type { IncomingHttpHeaders } from 'node:http'
import { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import { type Clock, type Duration, ValidationError } from '@cachestack/core'
import {
  CONDITIONAL_REQUEST_HEADERS,
  captureServerResponse,
  type HeaderList,
  type HttpCacheStore,
  type HttpRequestInfo,
  isAuthorized,
  ResponseCache,
  type ResponseCacheOptions,
  statsResponse,
  writeServerResponse,
} from '@cachestack/core/http'
import type { NextFunction, Request, RequestHandler, Response } from 'express'

/** Options of `cacheResponses`: the stack plus the shared response caching options. */
export interface CacheResponsesOptions extends ResponseCacheOptions<Request, Response> {
  /** The `CacheStack` (or a namespace of one) responses are stored in. */
  cache: HttpCacheStore
  /** Overrides the clock `Age` and staleness are computed with. @default the stack's own `clock` */
  clock?: Clock
  /** A background refresh that gets no answer within this is abandoned. @default '30s' */
  refreshTimeout?: Duration
}

/** Options of `statsRoute`. */
export interface StatsRouteOptions {
  /** The stack whose `getStats()` is served. */
  cache: HttpCacheStore
  /** Must return `true` for the stats to be served; anything else answers 403. */
  authorize: (req: Request) => boolean | Promise<boolean>
}

function requestInfo(req: Request): HttpRequestInfo<Request> {
  const url = req.originalUrl ?? req.url
  const q = url.indexOf('?')
  const headers: IncomingHttpHeaders = { ...req.headers }
  return {
    method: req.method.toUpperCase(),
    host: req.headers.host ?? '',
    // Express's own view under its `trust proxy` setting: what `req.protocol` and `req.host` tell the handler.
    origin: `${req.protocol}://${req.host ?? ''}`,
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? undefined : url.slice(q + 1),
    header: (name) => {
      const value = headers[name]
      return Array.isArray(value) ? value.join(', ') : value
    },
    raw: req,
  }
}

function stripConditional(req: Request): void {
  for (const name of CONDITIONAL_REQUEST_HEADERS) delete req.headers[name]
}

function setHeaders(res: Response, headers: HeaderList): void {
  for (const [name, value] of headers) res.setHeader(name, value)
}

/** Re-sends a copy of `req` through the whole application (background refresh), detached from any socket. */
function dispatchCopy(req: Request, extra: Record<string, string>): void {
  const copy = new IncomingMessage(new Socket())
  copy.method = 'GET'
  copy.url = req.originalUrl
  copy.headers = { ...req.headers, ...extra }
  for (const name of CONDITIONAL_REQUEST_HEADERS) delete copy.headers[name]
  copy.push(null)
  const app = req.app as unknown as {
    handle(req: IncomingMessage, res: ServerResponse, done: () => void): void
  }
  app.handle(copy, new ServerResponse(copy), () => {})
}

/**
 * Express middleware caching responses in a `CacheStack`: safe by default (GET/HEAD, 200, no credentials),
 * whatever the handler writes with (`res.json`, `res.send`, `res.end`, `res.write`, a piped stream).
 */
export function cacheResponses(options: CacheResponsesOptions): RequestHandler {
  const engine = new ResponseCache<Request, Response>(options)
  const maxBodySize = engine.options.maxBodySize

  const capture = (res: Response, detail: HeaderList | ((reason: string) => HeaderList)) =>
    captureServerResponse(res, {
      maxBodySize,
      passThroughHeaders: typeof detail === 'function' ? detail : () => detail,
    })

  async function handle(req: Request, res: Response, next: NextFunction): Promise<void> {
    const info = requestInfo(req)
    const role = engine.refreshRole(info)
    if (role.role === 'foreign') return next()
    if (role.role === 'owner') {
      capture(res, []).then(role.deliver)
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
      })
      next()
      const result = await run
      if (result.kind !== 'captured') return
      await engine.afterMutation(info, result.response.status, res)
      return writeServerResponse(res, result.response)
    }
    const outcome = await engine.serve(info, {
      produce: () => {
        stripConditional(req)
        const run = capture(res, (reason) => engine.passThrough('MISS', reason))
        next()
        return run
      },
      dispatch: (headers) => dispatchCopy(req, headers),
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
  const { cache, authorize } = options
  if (typeof authorize !== 'function') {
    throw new ValidationError(
      '"authorize" must be a function: stats are never public by default',
      'authorize',
    )
  }
  return (req, res, next) => {
    isAuthorized(authorize, req)
      .then((allowed) => writeServerResponse(res, statsResponse(cache, allowed)))
      .catch(next)
  }
}

import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import { ServerResponse } from 'node:http'
import {
  deleteConditionalHeaders,
  describeRequest,
  dispatchDetached,
  groupHeaders,
  type HeaderList,
  type HttpRequestInfo,
  type NodeRequestHandler,
  type OutgoingResponse,
  withoutConditionalHeaders,
  writeServerResponse,
} from '@cachestack/core/http'

/** The request and response of one HTTP call, whichever platform Nest runs on. */
export interface HttpExchange {
  readonly platform: 'express' | 'fastify'
  readonly info: HttpRequestInfo<unknown>
  /** The Node response both platforms finally write to; captures and replays go through it. */
  readonly raw: ServerResponse
  /** The platform's response object (Express `res`, Fastify `reply`), handed to `tags`/`invalidates` callbacks. */
  readonly response: unknown
  /** Adds headers to the answer the framework will write. */
  addHeaders(headers: HeaderList): void
  /** Hides the client's validators from a handler whose answer may be stored for everyone. */
  stripConditional(): void
  /** Re-sends a copy of the request through the application (background refresh). */
  dispatch(headers: Record<string, string>): void
}

interface FastifyLikeRequest {
  url: string
  protocol: string
  host: string
  method: string
  headers: IncomingHttpHeaders
  raw: IncomingMessage
  server: { inject(options: object): Promise<unknown> }
}

interface ExpressLikeRequest extends IncomingMessage {
  originalUrl?: string
  protocol: string
  host?: string
  app?: { handle: NodeRequestHandler }
}

/** Builds the exchange from what `context.switchToHttp()` gives on Express or Fastify. */
export function httpExchange(request: unknown, response: unknown): HttpExchange {
  if (response instanceof ServerResponse) {
    const req = request as ExpressLikeRequest
    const res = response
    const url = req.originalUrl ?? req.url ?? '/'
    return {
      platform: 'express',
      // The platform's own view under its trust-proxy setting, as the handler sees it (`req.protocol`/`req.host`).
      info: describeRequest({
        method: req.method ?? 'GET',
        target: url,
        headers: req.headers,
        origin: `${req.protocol}://${req.host ?? ''}`,
        raw: req,
      }),
      raw: res,
      response: res,
      addHeaders: (headers) => {
        for (const [name, value] of headers) res.setHeader(name, value)
      },
      stripConditional: () => deleteConditionalHeaders(req.headers),
      dispatch: (extra) => {
        const app = req.app
        if (!app) return
        dispatchDetached(
          (copy, out, done) => app.handle(copy, out, done),
          url,
          withoutConditionalHeaders(req.headers, extra),
          req.socket,
        )
      },
    }
  }
  const req = request as FastifyLikeRequest
  const reply = response as { raw: ServerResponse; header(name: string, value: string): unknown }
  return {
    platform: 'fastify',
    info: describeRequest({
      method: req.method,
      target: req.url,
      headers: req.headers,
      origin: `${req.protocol}://${req.host}`,
      raw: req,
    }),
    raw: reply.raw,
    response: reply,
    addHeaders: (headers) => {
      for (const [name, value] of headers) reply.header(name, value)
    },
    stripConditional: () => deleteConditionalHeaders(req.raw.headers),
    dispatch: (extra) => {
      req.server
        .inject({
          method: 'GET',
          url: req.url,
          headers: withoutConditionalHeaders(req.headers, extra),
          remoteAddress: req.raw.socket.remoteAddress,
        })
        .catch(() => {})
    },
  }
}

/** Writes a complete answer (stats, a hit) through the platform's own response object. */
export function writeAnswer(response: unknown, answer: OutgoingResponse): void {
  if (response instanceof ServerResponse) {
    writeServerResponse(response, answer)
    return
  }
  const reply = response as {
    getHeaders(): Record<string, unknown>
    removeHeader(name: string): unknown
    header(name: string, value: string | string[]): unknown
    code(status: number): { send(body?: unknown): unknown }
  }
  for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name)
  for (const [name, value] of groupHeaders(answer.headers)) reply.header(name, value)
  reply.code(answer.status).send(answer.body === null ? undefined : Buffer.from(answer.body))
}

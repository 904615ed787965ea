import type { IncomingHttpHeaders } from 'node:http'
import { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import {
  CONDITIONAL_REQUEST_HEADERS,
  detachedSocket,
  type HeaderList,
  type HttpRequestInfo,
  type OutgoingResponse,
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
  app?: { handle(req: IncomingMessage, res: ServerResponse, done: () => void): void }
}

function infoOf(raw: unknown, method: string, url: string, source: IncomingHttpHeaders, origin: string) {
  const q = url.indexOf('?')
  // A snapshot: stripping validators for the handler must not change what this request is answered with.
  const headers: IncomingHttpHeaders = { ...source }
  return {
    method: method.toUpperCase(),
    host: headers.host ?? '',
    // The platform's own view under its trust-proxy setting, as the handler sees it (`req.protocol`/`req.host`).
    origin,
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? undefined : url.slice(q + 1),
    header: (name: string) => {
      const value = headers[name]
      return Array.isArray(value) ? value.join(', ') : value
    },
    raw,
  }
}

function withoutValidators(headers: IncomingHttpHeaders, extra: Record<string, string>) {
  const copy: IncomingHttpHeaders = { ...headers, ...extra }
  for (const name of CONDITIONAL_REQUEST_HEADERS) delete copy[name]
  return copy
}

/** Builds the exchange from what `context.switchToHttp()` gives on Express or Fastify. */
export function httpExchange(request: unknown, response: unknown): HttpExchange {
  if (response instanceof ServerResponse) {
    const req = request as ExpressLikeRequest
    const res = response
    const url = req.originalUrl ?? req.url ?? '/'
    return {
      platform: 'express',
      info: infoOf(req, req.method ?? 'GET', url, req.headers, `${req.protocol}://${req.host ?? ''}`),
      raw: res,
      response: res,
      addHeaders: (headers) => {
        for (const [name, value] of headers) res.setHeader(name, value)
      },
      stripConditional: () => {
        for (const name of CONDITIONAL_REQUEST_HEADERS) delete req.headers[name]
      },
      dispatch: (extra) => {
        const copy = new ServerResponse(
          detachedRequest(url, withoutValidators(req.headers, extra), req.socket),
        )
        req.app?.handle(copy.req, copy, () => {})
      },
    }
  }
  const req = request as FastifyLikeRequest
  const reply = response as { raw: ServerResponse; header(name: string, value: string): unknown }
  return {
    platform: 'fastify',
    info: infoOf(req, req.method, req.url, req.headers, `${req.protocol}://${req.host}`),
    raw: reply.raw,
    response: reply,
    addHeaders: (headers) => {
      for (const [name, value] of headers) reply.header(name, value)
    },
    stripConditional: () => {
      for (const name of CONDITIONAL_REQUEST_HEADERS) delete req.raw.headers[name]
    },
    dispatch: (extra) => {
      req.server
        .inject({
          method: 'GET',
          url: req.url,
          headers: withoutValidators(req.headers, extra),
          remoteAddress: req.raw.socket.remoteAddress,
        })
        .catch(() => {})
    },
  }
}

function detachedRequest(url: string, headers: IncomingHttpHeaders, peer: Socket): IncomingMessage {
  // The original's address and TLS flag, so `trust proxy` reads the copy's forwarding headers as it did the original's.
  const message = new IncomingMessage(detachedSocket(peer))
  message.method = 'GET'
  message.url = url
  message.headers = headers
  message.push(null)
  return message
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
  const grouped = new Map<string, string[]>()
  for (const [name, value] of answer.headers) grouped.set(name, [...(grouped.get(name) ?? []), value])
  for (const [name, values] of grouped)
    reply.header(name, values.length === 1 ? (values[0] as string) : values)
  reply.code(answer.status).send(answer.body === null ? undefined : Buffer.from(answer.body))
}

import type { IncomingHttpHeaders } from 'node:http'
import { CONDITIONAL_REQUEST_HEADERS } from './policy.ts'
import type { HttpRequestInfo } from './request-key.ts'

/** What an adapter knows about a request, in the shape its framework gives it. */
export interface RequestParts<Req> {
  /** The method, any case. */
  readonly method: string
  /** The request target as the framework hands it to the application: path and query (`/p?a=1`). */
  readonly target: string
  /** Node-style headers (lower-case names, repeated ones as arrays), or a lookup by lower-case name. */
  readonly headers: IncomingHttpHeaders | ((name: string) => string | undefined)
  /** The origin the framework places the request at (`https://api.example.com`), under its trust-proxy setting. */
  readonly origin?: string | undefined
  /** The `Host` header; read from `headers` when left out. */
  readonly host?: string | undefined
  /** The framework's request object, handed to `session`, `key`, `tags`... */
  readonly raw: Req
}

/**
 * Builds the request description every adapter hands to `ResponseCache`: the target split into path and raw
 * query (a bare trailing `?` kept apart from none), headers read from a snapshot taken now, so hiding the
 * client's validators from the handler later does not change what this request is answered with.
 */
export function describeRequest<Req>(parts: RequestParts<Req>): HttpRequestInfo<Req> {
  const { target } = parts
  const q = target.indexOf('?')
  let header: (name: string) => string | undefined
  if (typeof parts.headers === 'function') {
    header = parts.headers
  } else {
    const snapshot: IncomingHttpHeaders = { ...parts.headers }
    header = (name) => {
      const value = snapshot[name]
      return Array.isArray(value) ? value.join(', ') : value
    }
  }
  return {
    method: parts.method.toUpperCase(),
    host: parts.host ?? header('host') ?? '',
    origin: parts.origin,
    path: q === -1 ? target : target.slice(0, q),
    query: q === -1 ? undefined : target.slice(q + 1),
    header,
    raw: parts.raw,
  }
}

/**
 * A copy of `headers` without the client's validators (`If-None-Match`...), plus `extra`: what a background
 * refresh sends, so the handler answers in full instead of `304`.
 */
export function withoutConditionalHeaders(
  headers: IncomingHttpHeaders,
  extra: Record<string, string> = {},
): IncomingHttpHeaders {
  const copy: IncomingHttpHeaders = { ...headers, ...extra }
  for (const name of CONDITIONAL_REQUEST_HEADERS) delete copy[name]
  return copy
}

/** Removes the client's validators from a request whose handler's answer may be stored for everyone. */
export function deleteConditionalHeaders(headers: Record<string, unknown>): void {
  for (const name of CONDITIONAL_REQUEST_HEADERS) delete headers[name]
}

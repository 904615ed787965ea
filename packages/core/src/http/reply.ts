import { publishServeStatus, type ServeStatus } from '../serve-status.ts'
import type { HttpRequestInfo } from './request-key.ts'
import {
  type CapturedResponse,
  type HeaderList,
  ifNoneMatchHits,
  type StoredResponse,
  storedBody,
} from './stored-response.ts'

/** The `X-Cache` value of an answer. */
export type CacheState = 'HIT' | 'MISS' | 'STALE' | 'BYPASS'

/** An answer for the adapter to write as is; `body: null` means no body (304). */
export interface OutgoingResponse {
  status: number
  headers: HeaderList
  body: Uint8Array | null
}

/** How a cached answer came about, for `X-Cache`, `Age` and `Cache-Status`. */
export interface ReplayContext {
  state: CacheState
  now: number
  cacheStatusHeader: boolean
  /** `Cache-Status` detail (`stored`, a not-stored reason...). */
  detail?: string | undefined
}

const SERVE_STATUS: Record<CacheState, ServeStatus> = {
  HIT: 'hit',
  MISS: 'miss',
  STALE: 'stale',
  BYPASS: 'bypass',
}

/** The name this cache uses in RFC 9211 `Cache-Status`. */
export const CACHE_STATUS_NAME = 'cachestack'

// RFC 9110 §15.4.5: a 304 carries the validators and caching fields, never the representation's metadata.
const DROPPED_ON_304 = new Set(['content-length', 'content-type', 'content-encoding', 'content-range'])

/** RFC 9211 `Cache-Status` for an answer. */
export function cacheStatusValue(state: CacheState, ttlSeconds: number | undefined, detail?: string): string {
  let value = CACHE_STATUS_NAME
  if (state === 'HIT' || state === 'STALE') value += `; hit; ttl=${ttlSeconds ?? 0}`
  else if (state === 'MISS') value += detail === 'stored' ? '; fwd=uri-miss; stored' : '; fwd=uri-miss'
  else value += '; fwd=bypass'
  if (detail && detail !== 'stored') value += `; detail=${detail}`
  return value
}

/** Headers added to an answer the handler writes itself (bypass, uncacheable responses). */
export function passThroughHeaders(
  state: CacheState,
  cacheStatusHeader: boolean,
  detail?: string,
): HeaderList {
  // Every answer's X-Cache is built here or in replayStored, in the request's async context: the one
  // place adapters tell tracing how the request was served.
  publishServeStatus(SERVE_STATUS[state], 'http', detail)
  const headers: HeaderList = [['x-cache', state]]
  if (cacheStatusHeader) headers.push(['cache-status', cacheStatusValue(state, undefined, detail)])
  return headers
}

/**
 * Builds the answer for a stored response: its exact status, headers and body, plus `ETag`, `Age`,
 * `X-Cache` and optionally `Cache-Status`; a `304` when `If-None-Match` matches.
 */
export function replayStored<Req>(
  stored: StoredResponse,
  request: HttpRequestInfo<Req>,
  context: ReplayContext,
): OutgoingResponse {
  publishServeStatus(SERVE_STATUS[context.state], 'http', context.detail)
  const body = storedBody(stored)
  const age = Math.max(0, Math.floor((context.now - stored.createdAt) / 1000))
  // The pairs are shared with the stored (frozen) entry: writers read them, never change them.
  const headers: HeaderList = stored.headers.slice()
  headers.push(['etag', stored.etag], ['age', String(age)], ['x-cache', context.state])
  if (context.cacheStatusHeader) {
    const ttl = Math.floor((stored.freshUntil - context.now) / 1000)
    headers.push(['cache-status', cacheStatusValue(context.state, ttl, context.detail)])
  }
  if (ifNoneMatchHits(request.header('if-none-match'), stored.etag)) {
    return { status: 304, headers: headers.filter(([name]) => !DROPPED_ON_304.has(name)), body: null }
  }
  headers.push(['content-length', String(body.byteLength)])
  // HEAD keeps the body: Node, Fastify and Hono all drop a HEAD body themselves and derive Content-Length from it.
  return { status: stored.status, headers, body }
}

/** Builds the answer for a response that was not stored: as the handler wrote it, plus the cache headers. */
export function replayCaptured(
  captured: CapturedResponse,
  state: CacheState,
  cacheStatusHeader: boolean,
  detail?: string,
): OutgoingResponse {
  const headers: HeaderList = captured.headers.filter(
    ([name]) => name !== 'x-cache' && name !== 'cache-status',
  )
  headers.push(...passThroughHeaders(state, cacheStatusHeader, detail))
  return { status: captured.status, headers, body: captured.body }
}

/** Headers grouped by name in order, a repeated one as a list: what `setHeader`/`reply.header` take. */
export function groupHeaders(headers: HeaderList): [string, string | string[]][] {
  const grouped = new Map<string, string[]>()
  for (const [name, value] of headers) {
    const values = grouped.get(name)
    if (values) values.push(value)
    else grouped.set(name, [value])
  }
  return [...grouped].map(([name, values]) => [name, values.length === 1 ? (values[0] as string) : values])
}

import { createHash } from 'node:crypto'

/** Response headers as `[lower-case name, value]` pairs; a repeated header appears once per value. */
export type HeaderList = [name: string, value: string][]

/** A response as a handler produced it, fully buffered. */
export interface CapturedResponse {
  status: number
  headers: HeaderList
  body: Uint8Array
}

/**
 * The stored form of a response: JSON-safe (the body is base64) so it survives any serializer and
 * layer, Redis included. Versioned so that a format change reads old entries as misses.
 */
export interface StoredResponse {
  readonly kind: 'cachestack:http-response:1'
  readonly status: number
  readonly headers: HeaderList
  /** Body bytes, base64. */
  readonly body: string
  /** Strong validator computed from the body. */
  readonly etag: string
  /** Epoch ms (the stack's clock) when the handler answered. */
  readonly createdAt: number
  /** Epoch ms after which the response is stale. */
  readonly freshUntil: number
}

/** Stored under the base key when the response varies on `Accept-Encoding`: read the variant key instead. */
export interface EncodingVariantMarker {
  readonly kind: 'cachestack:http-vary-encoding:1'
}

/** The marker value; identical for every entry. */
export const ENCODING_VARIANT_MARKER: EncodingVariantMarker = { kind: 'cachestack:http-vary-encoding:1' }

/** Is this a stored response (and not another value someone put under the key)? */
export function isStoredResponse(value: unknown): value is StoredResponse {
  return (value as StoredResponse | undefined)?.kind === 'cachestack:http-response:1'
}

/** Is this the Accept-Encoding variant marker? */
export function isEncodingVariantMarker(value: unknown): value is EncodingVariantMarker {
  return (value as EncodingVariantMarker | undefined)?.kind === ENCODING_VARIANT_MARKER.kind
}

// RFC 9110 §7.6.1: connection-specific fields never travel beyond one hop, so they are never replayed.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])
// Per-response or per-user fields, and the ones the cache writes itself on every answer.
const NOT_STORED = new Set(['set-cookie', 'date', 'content-length', 'etag', 'age', 'x-cache', 'cache-status'])

/** Reads one header (values of a repeated header joined with `, `). */
export function getHeader(headers: HeaderList, name: string): string | undefined {
  const values = headers.filter(([n]) => n === name).map(([, v]) => v)
  return values.length ? values.join(', ') : undefined
}

/** Builds a header list from a Node-style header object (`res.getHeaders()`). */
export function headerListFrom(
  headers: Record<string, number | string | readonly string[] | undefined>,
): HeaderList {
  const list: HeaderList = []
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    const lower = name.toLowerCase()
    if (Array.isArray(value)) for (const v of value) list.push([lower, String(v)])
    else list.push([lower, String(value)])
  }
  return list
}

/** A strong validator for a body (RFC 9110 §8.8.3): changes whenever a byte changes. */
export function strongEtag(body: Uint8Array): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
}

/** Turns a captured response into its stored form. */
export function toStoredResponse(
  captured: CapturedResponse,
  createdAt: number,
  freshUntil: number,
): StoredResponse {
  const connectionTokens = new Set(
    (getHeader(captured.headers, 'connection') ?? '')
      .toLowerCase()
      .split(',')
      .map((t) => t.trim()),
  )
  const headers = captured.headers.filter(
    ([name]) => !HOP_BY_HOP.has(name) && !NOT_STORED.has(name) && !connectionTokens.has(name),
  )
  return {
    kind: 'cachestack:http-response:1',
    status: captured.status,
    headers,
    body: Buffer.from(captured.body.buffer, captured.body.byteOffset, captured.body.byteLength).toString(
      'base64',
    ),
    etag: strongEtag(captured.body),
    createdAt,
    freshUntil,
  }
}

/** The body bytes of a stored response. */
export function storedBody(stored: StoredResponse): Buffer {
  return Buffer.from(stored.body, 'base64')
}

/**
 * Does the response vary on `Accept-Encoding`? Also true when it is encoded without saying so, since
 * replaying gzip bytes to a client that did not ask for them would break it.
 */
export function variesOnEncoding(headers: HeaderList): boolean {
  const vary = (getHeader(headers, 'vary') ?? '').toLowerCase()
  if (vary.split(',').some((v) => v.trim() === 'accept-encoding')) return true
  const encoding = getHeader(headers, 'content-encoding')?.trim().toLowerCase()
  return encoding !== undefined && encoding !== '' && encoding !== 'identity'
}

/**
 * RFC 9110 §13.1.2: `If-None-Match` uses the weak comparison, so `W/"x"` matches `"x"`, and `*` matches
 * any current representation.
 */
export function ifNoneMatchHits(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false
  if (ifNoneMatch.trim() === '*') return true
  const opaque = etag.replace(/^W\//, '')
  return ifNoneMatch.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === opaque)
}

import type { NormalizedResponseCacheOptions } from './options.ts'
import type { HttpRequestInfo } from './request-key.ts'
import { type CapturedResponse, getHeader, type HeaderList } from './stored-response.ts'
import { type RewriteReason, rewriteReason } from './unkeyed-inputs.ts'

/** Methods whose 2xx answers run `invalidates`. */
export const MUTATION_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/** Why a request skips the cache; reported in `Cache-Status` and useful in logs. */
export type BypassReason =
  | 'method'
  | 'credentials'
  | 'no-session'
  | 'range'
  | 'bypass-predicate'
  | RewriteReason

/** What to do with a request before the handler runs. */
export type RequestDecision =
  | { readonly action: 'cache' }
  | { readonly action: 'invalidate' }
  | { readonly action: 'bypass'; readonly reason: BypassReason }

/**
 * Decides from the request alone. Request `Cache-Control`/`Pragma` are deliberately ignored: a client must
 * not be able to push every request through to the handler (a cheap denial of service), only `bypass(req)` may.
 */
export function decideRequest<Req>(
  request: HttpRequestInfo<Req>,
  options: NormalizedResponseCacheOptions<Req, unknown>,
): RequestDecision {
  const method = request.method
  if (method !== 'GET' && method !== 'HEAD') {
    if (MUTATION_METHODS.has(method) && options.invalidates !== undefined) return { action: 'invalidate' }
    return { action: 'bypass', reason: 'method' }
  }
  if (options.bypass?.(request.raw)) return { action: 'bypass', reason: 'bypass-predicate' }
  // A range request answered from a full stored body would be correct but surprising; a 206 is never stored.
  if (request.header('range') !== undefined) return { action: 'bypass', reason: 'range' }
  const rewrite = rewriteReason(request.header, options.vary, options.allowBody)
  if (rewrite !== undefined) return { action: 'bypass', reason: rewrite }
  if (
    options.scope === 'public' &&
    (request.header('authorization') !== undefined || request.header('cookie') !== undefined)
  ) {
    return { action: 'bypass', reason: 'credentials' }
  }
  return { action: 'cache' }
}

/** Why a response was not stored. */
export type NotStoredReason =
  | 'status'
  | 'set-cookie'
  | 'no-store'
  | 'private'
  | 'vary'
  | 'event-stream'
  | 'too-large'
  | 'unseen'
  | 'refresh-origin'

function cacheControlDirectives(headers: HeaderList): Set<string> {
  const value = getHeader(headers, 'cache-control') ?? ''
  return new Set(
    value
      .toLowerCase()
      .split(',')
      .map((d) => d.trim().split('=')[0]?.trim() ?? '')
      .filter(Boolean),
  )
}

/** True for `text/event-stream`: an open-ended stream is never buffered nor stored. */
export function isEventStream(headers: HeaderList): boolean {
  return (getHeader(headers, 'content-type') ?? '').toLowerCase().startsWith('text/event-stream')
}

/**
 * Checks a response's headers and status (not its size). `private` is refused in public scope only: with
 * `scope: 'private'` the entry is keyed by the session, so it is the private cache RFC 9111 §5.2.2.7 allows.
 */
export function headersForbidStorage(
  status: number,
  headers: HeaderList,
  options: NormalizedResponseCacheOptions<unknown, unknown>,
): NotStoredReason | undefined {
  if (!options.statuses.has(status)) return 'status'
  if (headers.some(([name]) => name === 'set-cookie')) return 'set-cookie'
  const directives = cacheControlDirectives(headers)
  if (directives.has('no-store')) return 'no-store'
  if (directives.has('private') && options.scope !== 'private') return 'private'
  if (isEventStream(headers)) return 'event-stream'
  const vary = getHeader(headers, 'vary')
  if (vary !== undefined) {
    for (const raw of vary.split(',')) {
      const name = raw.trim().toLowerCase()
      if (name === '') continue
      if (name === '*') return 'vary'
      if (name !== 'accept-encoding' && !options.vary.includes(name)) return 'vary'
    }
  }
  return undefined
}

/** The full storage check for a buffered response. */
export function whyNotStored(
  captured: CapturedResponse,
  options: NormalizedResponseCacheOptions<unknown, unknown>,
): NotStoredReason | undefined {
  if (captured.body.byteLength > options.maxBodySize) return 'too-large'
  return headersForbidStorage(captured.status, captured.headers, options)
}

/**
 * Validators belong to the client, not to the handler: a handler that saw them could answer 304, and a
 * bodiless 304 must never become the entry every other client is served. Adapters strip these before
 * running a handler whose answer may be stored.
 */
export const CONDITIONAL_REQUEST_HEADERS: readonly string[] = [
  'if-none-match',
  'if-modified-since',
  'if-match',
  'if-unmodified-since',
  'if-range',
]

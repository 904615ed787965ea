import type { TRPCRequestInfo } from '@trpc/server/http'
import { callRecord } from './call-records.ts'

/** What `responseMeta` reads of tRPC's call (a subset, so any router's `responseMeta` accepts it). */
export interface ResponseMetaInput {
  info: TRPCRequestInfo | undefined
  type: string
  errors: readonly unknown[]
  eagerGeneration: boolean
}

/** Options of `cacheResponseMeta`. */
export interface CacheResponseMetaOptions {
  /** An upper bound for `max-age`, in seconds (a hit may already be up to `ttl` old). @default none */
  maxAge?: number | undefined
  /** Adds `stale-while-revalidate=N` (seconds) to a shareable answer. @default none */
  staleWhileRevalidate?: number | undefined
}

/** `Cache-Control` of an answer that shared caches must not keep. */
export const PRIVATE_NO_STORE = 'private, no-store'

/**
 * Decides `Cache-Control` for one tRPC HTTP response: `public, max-age=N` only when every call of the
 * batch is a successful query answered by a public `cacheMiddleware` (N: the smallest `ttl`), otherwise
 * `private, no-store`. Streamed batches (`httpBatchStreamLink`) are decided before any call has run,
 * so they are always `private, no-store`.
 */
export function cacheControlFor(meta: ResponseMetaInput, options: CacheResponseMetaOptions = {}): string {
  const calls = meta.info?.calls
  if (meta.eagerGeneration || meta.errors.length > 0 || meta.type !== 'query' || !calls?.length)
    return PRIVATE_NO_STORE
  let maxAge = options.maxAge ?? Number.POSITIVE_INFINITY
  for (const call of calls) {
    const record = callRecord(call.getRawInput)
    if (record === undefined || !record.shareable || record.maxAge === undefined) return PRIVATE_NO_STORE
    maxAge = Math.min(maxAge, record.maxAge)
  }
  if (!Number.isFinite(maxAge) || maxAge <= 0) return PRIVATE_NO_STORE
  const swr = options.staleWhileRevalidate
  return `public, max-age=${maxAge}${swr ? `, stale-while-revalidate=${swr}` : ''}`
}

/**
 * A `responseMeta` for tRPC's HTTP adapters that makes batching safe for CDNs: see `cacheControlFor`.
 * Pass it as `responseMeta: cacheResponseMeta()` to `createHTTPServer`, `createExpressMiddleware`...
 */
export function cacheResponseMeta(
  options: CacheResponseMetaOptions = {},
): (meta: ResponseMetaInput) => { headers: Headers } {
  return (meta) => ({ headers: new Headers({ 'cache-control': cacheControlFor(meta, options) }) })
}

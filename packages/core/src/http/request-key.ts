import { createHash } from 'node:crypto'

/** A framework-neutral description of an incoming request; `raw` is handed to user callbacks. */
export interface HttpRequestInfo<Req = unknown> {
  /** Upper-case method. */
  readonly method: string
  /** The `Host` header, port included (`api.example.com:8080`). */
  readonly host: string
  /** The path without the query string, as received. */
  readonly path: string
  /** The raw query string without its leading `?` (may be empty). */
  readonly query: string
  /** A request header by lower-case name; repeated headers joined with `, `. */
  header(name: string): string | undefined
  /** The framework's own request object. */
  readonly raw: Req
}

/** Encodings a compression middleware may choose from, in the order used to break q-value ties. */
const KNOWN_ENCODINGS = ['br', 'zstd', 'gzip', 'deflate'] as const

/**
 * Reduces `Accept-Encoding` to the encodings that matter, ordered by preference: two requests with the same
 * normalized value make any compression middleware choose the same encoding, so they can share an entry
 * (`'gzip, deflate, br'` and `'br;q=1, gzip, deflate'` both become `'br,gzip,deflate'`).
 */
export function normalizeAcceptEncoding(header: string | undefined): string {
  if (!header) return 'identity'
  const weights = new Map<string, number>()
  let wildcard: number | undefined
  for (const part of header.toLowerCase().split(',')) {
    const [token, ...params] = part.trim().split(';')
    const name = token?.trim()
    if (!name) continue
    let q = 1
    for (const param of params) {
      const [k, v] = param.trim().split('=')
      if (k?.trim() === 'q') q = Number(v)
    }
    if (!Number.isFinite(q)) continue
    if (name === '*') wildcard = q
    else if (name === 'x-gzip') weights.set('gzip', q)
    else weights.set(name, q)
  }
  const accepted = KNOWN_ENCODINGS.map((name) => ({ name, q: weights.get(name) ?? wildcard ?? 0 }))
    .filter((e) => e.q > 0)
    .sort((a, b) => b.q - a.q)
    .map((e) => e.name)
  return accepted.length ? accepted.join(',') : 'identity'
}

/** Sorts the query by parameter name (stable, so repeated parameters keep their order) and drops ignored names. */
export function canonicalQuery(query: string, ignore: (name: string) => boolean): string {
  if (!query) return ''
  const params = [...new URLSearchParams(query)].filter(([name]) => !ignore(name))
  params.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return new URLSearchParams(params).toString()
}

/** A short, irreversible digest: session identifiers never appear in keys. */
export function hashValue(value: string): string {
  return createHash('sha256').update(value).digest('base64url').slice(0, 22)
}

/** The parts of a request that make up its cache key. */
export interface RequestKeyParts {
  host: string
  path: string
  query: string
  ignoreQuery: (name: string) => boolean
  vary: readonly string[]
  header(name: string): string | undefined
  /** Overrides host, path and query when the route has a custom `key(req)`. */
  custom?: string | undefined
  /** The session, for `scope: 'private'`. */
  session?: string | undefined
}

/**
 * The canonical key of a GET or HEAD request (HEAD shares GET's entry): host with port, path, sorted
 * query, the values of the `vary` headers, and a hash of the session when the scope is private.
 */
export function requestKey(parts: RequestKeyParts): string {
  let key = parts.custom ?? `GET ${parts.host.toLowerCase()}${parts.path}`
  if (parts.custom === undefined) {
    const query = canonicalQuery(parts.query, parts.ignoreQuery)
    if (query) key += `?${query}`
  }
  for (const name of parts.vary) {
    const value =
      name === 'accept-encoding' ? normalizeAcceptEncoding(parts.header(name)) : parts.header(name)
    key += ` ${name}=${JSON.stringify(value ?? null)}`
  }
  if (parts.session !== undefined) key += ` session=${hashValue(parts.session)}`
  return `http:${key}`
}

/** The key of the Accept-Encoding variant of a response stored under `baseKey`. */
export function encodingVariantKey(baseKey: string, acceptEncoding: string | undefined): string {
  return `${baseKey} ae=${normalizeAcceptEncoding(acceptEncoding)}`
}

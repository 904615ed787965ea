import { hashSession, sessionSuffix } from '../operation/operation-key.ts'
import { forwardingKey } from './unkeyed-inputs.ts'

/** A framework-neutral description of an incoming request; `raw` is handed to user callbacks. */
export interface HttpRequestInfo<Req = unknown> {
  /** Upper-case method. */
  readonly method: string
  /** The `Host` header, port included (`api.example.com:8080`). */
  readonly host: string
  /**
   * Scheme and host the framework says the request was made to (`https://api.example.com`), computed
   * under its own trust-proxy setting, or taken from an absolute-form request target. Keyed, so two
   * requests the framework places at different origins never share an entry. Adapters should set it.
   */
  readonly origin?: string | undefined
  /**
   * The path without the query string, exactly as the framework hands it to the application (raw
   * `req.url` on Node, absolute-form prefix included; never decoded nor normalized by the adapter).
   */
  readonly path: string
  /**
   * The raw query string without its leading `?`: `''` for a bare trailing `?`, `undefined` when the
   * target has no `?` at all (the handler's `req.url` differs, so the two are keyed apart).
   */
  readonly query: string | undefined
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

/**
 * Past this many `&`-separated pieces, query parsers stop reading (qs's `parameterLimit`, Node's
 * `querystring` `maxKeys`): which parameters the application sees then depends on their order and on the
 * ignored ones, so such a query is keyed exactly as received.
 */
export const QUERY_PARSER_LIMIT = 1000

function decodedName(pair: string): string {
  const eq = pair.indexOf('=')
  const raw = eq === -1 ? pair : pair.slice(0, eq)
  if (!raw.includes('%') && !raw.includes('+')) return raw
  const name = raw.replaceAll('+', ' ')
  try {
    return decodeURIComponent(name)
  } catch {
    return name
  }
}

/** `a` for `a`, `a[]`, `a[0][b]` and `a.b`: parsers with array or object syntax merge these into one value. */
function baseName(name: string): string {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i)
    if (c === 0x5b || c === 0x2e) return name.slice(0, i)
  }
  return name
}

/**
 * Canonical form of a raw query: parameters ordered by name, the ignored ones dropped, every parameter
 * kept byte for byte. Nothing is decoded and re-encoded, so two queries a parser reads differently
 * (`%C3` and `%EF%BF%BD`, `a%3Db=1` and `a=b=1`, `a=1;b=2` and `a=1&b=2`) never share a key. Parameters
 * with the same base name (`a`, `a[]`, `a[0]`, `a.b`) keep their relative order: parsers combine them in
 * order, so `e=1&e=2` and `e=2&e=1` are different requests.
 */
export function canonicalQuery(query: string, ignore: (name: string) => boolean): string {
  if (!query) return ''
  const pieces = query.split('&')
  if (pieces.length >= QUERY_PARSER_LIMIT) return query
  const kept: { pair: string; base: string; index: number }[] = []
  pieces.forEach((pair, index) => {
    const name = decodedName(pair)
    if (!ignore(name)) kept.push({ pair, base: baseName(name), index })
  })
  kept.sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : a.index - b.index))
  return kept.map((p) => p.pair).join('&')
}

/** A short, irreversible digest: session identifiers never appear in keys. Same digest as `hashSession`. */
export const hashValue: (value: string) => string = hashSession

/** The parts of a request that make up its cache key. */
export interface RequestKeyParts {
  host: string
  /** Scheme and host as the framework computes them (`HttpRequestInfo.origin`). */
  origin?: string | undefined
  path: string
  query: string | undefined
  ignoreQuery: (name: string) => boolean
  vary: readonly string[]
  header(name: string): string | undefined
  /** Overrides host, path and query when the route has a custom `key(req)`. */
  custom?: string | undefined
  /** The session, for `scope: 'private'`. */
  session?: string | undefined
}

/**
 * The canonical key of a GET or HEAD request (HEAD shares GET's entry): the `Host` header exactly as sent,
 * the path as received and the canonical query (or the custom key), the origin the framework computed,
 * the forwarding headers, the values of the `vary` headers, and a hash of the session when the scope is
 * private. Free-form parts are JSON-quoted so that no value can spell another part of the key.
 */
export function requestKey(parts: RequestKeyParts): string {
  let key: string
  if (parts.custom !== undefined) key = `custom ${JSON.stringify(parts.custom)}`
  else {
    const query = parts.query === undefined ? undefined : canonicalQuery(parts.query, parts.ignoreQuery)
    // A query of ignored parameters only is no query; a bare `?` is one (`req.originalUrl` shows it).
    const target =
      query === undefined || (query === '' && parts.query !== '') ? parts.path : `${parts.path}?${query}`
    key = `GET ${JSON.stringify(parts.host)} ${JSON.stringify(target)}`
  }
  if (parts.origin !== undefined) key += ` origin=${JSON.stringify(parts.origin)}`
  key += forwardingKey(parts.header)
  for (const name of parts.vary) {
    const value =
      name === 'accept-encoding' ? normalizeAcceptEncoding(parts.header(name)) : parts.header(name)
    key += ` ${name}=${JSON.stringify(value ?? null)}`
  }
  if (parts.session !== undefined) key += sessionSuffix(parts.session)
  return `http:${key}`
}

/** The key of the Accept-Encoding variant of a response stored under `baseKey`. */
export function encodingVariantKey(baseKey: string, acceptEncoding: string | undefined): string {
  return `${baseKey} ae=${normalizeAcceptEncoding(acceptEncoding)}`
}

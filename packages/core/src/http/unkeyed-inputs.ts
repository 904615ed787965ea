/**
 * Request inputs outside the URL that decide what a handler answers, and so must either be part of the
 * key or keep the request away from the cache. An input that changes the answer but not the key lets
 * one request decide what every later visitor receives ("web cache poisoning").
 */

/**
 * Headers a proxy sets to say how the client reached it. Frameworks read some of them under their
 * trust-proxy setting (Express `req.host`/`req.protocol`, Fastify `request.host`/`request.protocol`) and
 * handlers read the others themselves (Hono has no trust-proxy setting; `X-Forwarded-Prefix` is read by
 * hand everywhere). Their raw values are keyed: a proxy sends the same values on every request, so
 * ordinary traffic is not fragmented, and an attacker's value lands under a key no ordinary request has.
 * `X-Forwarded-For` is deliberately absent: it differs per client and would give every client its own entry.
 */
export const FORWARDING_HEADERS: readonly string[] = [
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-scheme',
  'x-forwarded-ssl',
  'x-host',
]

/** Headers some servers and frameworks (IIS, Symfony, Laravel...) use to route to another URL than the one requested. */
export const REWRITE_HEADERS: readonly string[] = ['x-original-url', 'x-rewrite-url']

/** Headers method-override middlewares read (Express `method-override`, Hono `methodOverride`, Rails, Laravel...). */
export const METHOD_OVERRIDE_HEADERS: readonly string[] = [
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
]

/**
 * The host and proto parameters of an RFC 7239 `Forwarded` header, every hop in order. `for` and `by`
 * name the client and the proxy, differ per client, and are dropped for the same reason `X-Forwarded-For` is.
 */
export function forwardedHostAndProto(value: string): string {
  const kept: string[] = []
  for (const element of value.split(',')) {
    const pairs: string[] = []
    for (const pair of element.split(';')) {
      const eq = pair.indexOf('=')
      if (eq === -1) continue
      const name = pair.slice(0, eq).trim().toLowerCase()
      if (name !== 'host' && name !== 'proto') continue
      pairs.push(`${name}=${pair.slice(eq + 1).trim()}`)
    }
    kept.push(pairs.join(';'))
  }
  return kept.join(',')
}

/**
 * The key fragment of the forwarding headers a request carries (empty when it carries none, so a cache
 * not behind a proxy keeps its keys). Values are kept exactly: normalizing them could merge two values a
 * handler treats differently.
 */
export function forwardingKey(header: (name: string) => string | undefined): string {
  let key = ''
  for (const name of FORWARDING_HEADERS) {
    const value = header(name)
    if (value !== undefined) key += ` ${name}=${JSON.stringify(value)}`
  }
  const forwarded = header('forwarded')
  if (forwarded !== undefined) key += ` forwarded=${JSON.stringify(forwardedHostAndProto(forwarded))}`
  return key
}

/**
 * True when the request carries a body. A GET or HEAD body is read by body parsers (Express's
 * `express.json()` does) while no cache keys it, so such a request must not meet the cache.
 */
export function carriesBody(header: (name: string) => string | undefined): boolean {
  if (header('transfer-encoding') !== undefined) return true
  const length = header('content-length')
  return length !== undefined && length.trim() !== '0'
}

/** Why a GET/HEAD request that may rewrite itself is kept away from the cache. */
export type RewriteReason = 'rewrite-header' | 'method-override' | 'request-body'

/**
 * Finds an input that makes the application answer another request than the one the key describes:
 * a rewrite header, a method override, a body. A header the route lists in `vary` is keyed, so it can no
 * longer poison and does not bypass; a body is allowed only with `allowBody`.
 */
export function rewriteReason(
  header: (name: string) => string | undefined,
  vary: readonly string[],
  allowBody: boolean,
): RewriteReason | undefined {
  const present = (name: string) => header(name) !== undefined && !vary.includes(name)
  if (REWRITE_HEADERS.some(present)) return 'rewrite-header'
  if (METHOD_OVERRIDE_HEADERS.some(present)) return 'method-override'
  if (!allowBody && carriesBody(header)) return 'request-body'
  return undefined
}

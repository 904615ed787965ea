import { describe, expect, it } from 'vitest'
import {
  canonicalQuery,
  encodingVariantKey,
  normalizeAcceptEncoding,
  QUERY_PARSER_LIMIT,
  requestKey,
} from './request-key.ts'

const none = () => false
const headersOf =
  (headers: Record<string, string>) =>
  (name: string): string | undefined =>
    headers[name]

describe('canonicalQuery', () => {
  it('sorts parameters by name and keeps the order of repeated ones', () => {
    expect(canonicalQuery('b=2&a=1&c=3', none)).toBe('a=1&b=2&c=3')
    expect(canonicalQuery('tag=z&a=1&tag=y', none)).toBe('a=1&tag=z&tag=y')
  })

  it('drops ignored names, exact and by prefix, matched on the decoded name', () => {
    const ignore = (name: string) => name === 'fbclid' || name.startsWith('utm_')
    expect(canonicalQuery('page=2&utm_source=x&fbclid=1&utm_medium=y', ignore)).toBe('page=2')
    expect(canonicalQuery('page=2&utm%5Fsource=x', ignore)).toBe('page=2')
  })

  it('keeps every parameter byte for byte, so queries a parser reads differently never meet', () => {
    const differ: [string, string][] = [
      ['a=1%262', 'a=1&2'],
      ['a%3Db=1', 'a=b=1'],
      ['a=1;b=2', 'a=1&b=2'],
      ['q=%C3', 'q=%EF%BF%BD'],
      ['s=a%2Bb', 's=a+b'],
      ['e=1&e=2', 'e=2&e=1'],
      ['a[]=1&a[0]=2', 'a[0]=2&a[]=1'],
      ['a=1&a[]=2', 'a[]=2&a=1'],
      ['a.b=1&a[b]=2', 'a[b]=2&a.b=1'],
      ['a%5B%5D=1&a=2', 'a=2&a%5B%5D=1'],
    ]
    for (const [one, other] of differ)
      expect(canonicalQuery(one, none), `${one} vs ${other}`).not.toBe(canonicalQuery(other, none))
    expect(canonicalQuery('', none)).toBe('')
  })

  it("keys a query past the parsers' parameter limit exactly as received, ignored names included", () => {
    const padding = Array.from({ length: QUERY_PARSER_LIMIT }, (_, i) => `utm_${i}=x`).join('&')
    const ignore = (name: string) => name.startsWith('utm_')
    expect(canonicalQuery(`${padding}&page=2`, ignore)).toBe(`${padding}&page=2`)
    expect(canonicalQuery(`${padding}&page=2`, ignore)).not.toBe(canonicalQuery('page=2', ignore))
  })
})

describe('normalizeAcceptEncoding', () => {
  it('orders accepted encodings by preference and drops unknown or refused ones', () => {
    expect(normalizeAcceptEncoding('gzip, deflate, br')).toBe('br,gzip,deflate')
    expect(normalizeAcceptEncoding('br;q=1.0, gzip;q=0.8, *;q=0.1')).toBe('br,gzip,zstd,deflate')
    expect(normalizeAcceptEncoding('gzip;q=0, identity')).toBe('identity')
    expect(normalizeAcceptEncoding('deflate;q=0.5, gzip;q=0.9')).toBe('gzip,deflate')
    expect(normalizeAcceptEncoding(undefined)).toBe('identity')
    expect(normalizeAcceptEncoding('x-gzip')).toBe('gzip')
  })
})

describe('requestKey', () => {
  const base = { host: 'API.example.com:8080', path: '/posts', query: 'page=2&sort=new', ignoreQuery: none }

  it('includes the host with its port, the path and the sorted query', () => {
    const key = requestKey({ ...base, vary: [], header: headersOf({}) })
    expect(key).toBe('http:GET "API.example.com:8080" "/posts?page=2&sort=new"')
    expect(requestKey({ ...base, query: 'sort=new&page=2', vary: [], header: headersOf({}) })).toBe(key)
    expect(requestKey({ ...base, host: 'api.example.com:9090', vary: [], header: headersOf({}) })).not.toBe(
      key,
    )
    expect(requestKey({ ...base, path: '/Posts', vary: [], header: headersOf({}) })).not.toBe(key)
    // `/posts?` and `/posts` parse alike but `req.originalUrl` differs; a query of ignored names is no query.
    const bare = (query: string | undefined, ignore: (name: string) => boolean = none) =>
      requestKey({ ...base, query, ignoreQuery: ignore, vary: [], header: headersOf({}) })
    expect(bare('')).not.toBe(bare(undefined))
    expect(bare('utm_source=x', (name) => name === 'utm_source')).toBe(bare(undefined))
    // Express hands `req.host` to the handler as sent: a differently cased Host is another request.
    expect(requestKey({ ...base, host: 'api.example.com:8080', vary: [], header: headersOf({}) })).not.toBe(
      key,
    )
  })

  it("quotes host and path so that no Host header can spell another request's key", () => {
    const plain = requestKey({ ...base, host: 'a', path: '/b', query: '', vary: [], header: headersOf({}) })
    const spelled = requestKey({ ...base, host: 'a/b', path: '', query: '', vary: [], header: headersOf({}) })
    expect(plain).not.toBe(spelled)
    const absolute = requestKey({
      ...base,
      path: 'http://other.example/posts',
      vary: [],
      header: headersOf({}),
    })
    expect(absolute).not.toBe(requestKey({ ...base, vary: [], header: headersOf({}) }))
  })

  it('keys the origin the framework computed', () => {
    const http = requestKey({ ...base, origin: 'http://api.example.com', vary: [], header: headersOf({}) })
    const https = requestKey({ ...base, origin: 'https://api.example.com', vary: [], header: headersOf({}) })
    const other = requestKey({ ...base, origin: 'http://other.example', vary: [], header: headersOf({}) })
    expect(new Set([http, https, other]).size).toBe(3)
  })

  it('keys the forwarding headers a proxy sets, exactly, and not the per-client ones', () => {
    const keyWith = (headers: Record<string, string>) =>
      requestKey({ ...base, vary: [], header: headersOf(headers) })
    const plain = keyWith({})
    const variants: Record<string, string>[] = [
      { 'x-forwarded-host': 'evil.example' },
      { 'x-forwarded-host': 'Evil.example' },
      { 'x-forwarded-host': 'evil.example, api.example.com' },
      { 'x-forwarded-proto': 'https' },
      { 'x-forwarded-port': '8443' },
      { 'x-forwarded-prefix': '/evil' },
      { 'x-forwarded-scheme': 'https' },
      { 'x-forwarded-ssl': 'on' },
      { 'x-host': 'evil.example' },
      { forwarded: 'host=evil.example' },
      { forwarded: 'proto=https' },
      { forwarded: 'for=1.2.3.4;host="evil.example"' },
      { forwarded: 'for=1.2.3.4, for=5.6.7.8;host=evil.example' },
    ]
    const keys = variants.map(keyWith)
    expect(new Set([plain, ...keys]).size).toBe(variants.length + 1)
    // A proxy names each client in X-Forwarded-For and in Forwarded's `for`: keying those would give every
    // client its own entry.
    const proxied = (client: string) =>
      keyWith({
        'x-forwarded-for': client,
        'x-forwarded-host': 'api.example.com',
        'x-forwarded-proto': 'https',
        forwarded: `for=${client};by=10.0.0.1;host=api.example.com;proto=https`,
      })
    expect(proxied('1.2.3.4')).toBe(proxied('5.6.7.8'))
    expect(proxied('1.2.3.4')).not.toBe(plain)
  })

  it('includes the values of the vary headers, absent ones included', () => {
    const fr = requestKey({
      ...base,
      vary: ['accept-language'],
      header: headersOf({ 'accept-language': 'fr' }),
    })
    const en = requestKey({
      ...base,
      vary: ['accept-language'],
      header: headersOf({ 'accept-language': 'en' }),
    })
    const missing = requestKey({ ...base, vary: ['accept-language'], header: headersOf({}) })
    expect(new Set([fr, en, missing]).size).toBe(3)
  })

  it('hashes the session: two sessions never share a key and the raw value never appears', () => {
    const alice = requestKey({ ...base, vary: [], header: headersOf({}), session: 'alice-secret-token' })
    const bob = requestKey({ ...base, vary: [], header: headersOf({}), session: 'bob-secret-token' })
    expect(alice).not.toBe(bob)
    expect(alice).not.toContain('alice')
  })

  it('lets a custom key replace host, path and query but keeps the scope and the forwarding headers', () => {
    const key = requestKey({ ...base, vary: [], header: headersOf({}), custom: 'posts-page', session: 's' })
    expect(key).toMatch(/^http:custom "posts-page" session=/)
    const forwarded = requestKey({
      ...base,
      vary: [],
      header: headersOf({ 'x-forwarded-host': 'evil.example' }),
      custom: 'posts-page',
      session: 's',
    })
    expect(forwarded).not.toBe(key)
    // A custom key built from request data cannot spell the rest of a key.
    const genuine = requestKey({ ...base, origin: 'https://a', vary: [], header: headersOf({}), custom: 'p' })
    const spelled = requestKey({ ...base, vary: [], header: headersOf({}), custom: 'p" origin="https://a' })
    expect(spelled).not.toBe(genuine)
  })

  it('derives encoding variant keys from the normalized Accept-Encoding', () => {
    expect(encodingVariantKey('k', 'gzip, br')).toBe(encodingVariantKey('k', 'br,gzip'))
    expect(encodingVariantKey('k', 'gzip')).not.toBe(encodingVariantKey('k', undefined))
  })
})

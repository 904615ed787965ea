import { describe, expect, it } from 'vitest'
import { canonicalQuery, encodingVariantKey, normalizeAcceptEncoding, requestKey } from './request-key.ts'

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

  it('drops ignored names, exact and by prefix', () => {
    const ignore = (name: string) => name === 'fbclid' || name.startsWith('utm_')
    expect(canonicalQuery('page=2&utm_source=x&fbclid=1&utm_medium=y', ignore)).toBe('page=2')
  })

  it('normalizes encoding so equivalent queries match', () => {
    expect(canonicalQuery('q=a%20b', none)).toBe(canonicalQuery('q=a+b', none))
    expect(canonicalQuery('', none)).toBe('')
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
    expect(key).toBe('http:GET api.example.com:8080/posts?page=2&sort=new')
    expect(requestKey({ ...base, query: 'sort=new&page=2', vary: [], header: headersOf({}) })).toBe(key)
    expect(requestKey({ ...base, host: 'api.example.com:9090', vary: [], header: headersOf({}) })).not.toBe(
      key,
    )
    expect(requestKey({ ...base, path: '/Posts', vary: [], header: headersOf({}) })).not.toBe(key)
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

  it('lets a custom key replace host, path and query but keeps the scope', () => {
    const key = requestKey({ ...base, vary: [], header: headersOf({}), custom: 'posts-page', session: 's' })
    expect(key).toMatch(/^http:posts-page session=/)
  })

  it('derives encoding variant keys from the normalized Accept-Encoding', () => {
    expect(encodingVariantKey('k', 'gzip, br')).toBe(encodingVariantKey('k', 'br,gzip'))
    expect(encodingVariantKey('k', 'gzip')).not.toBe(encodingVariantKey('k', undefined))
  })
})

import { describe, expect, it } from 'vitest'
import { ValidationError } from '../errors.ts'
import { normalizeResponseCacheOptions } from './options.ts'
import { decideRequest, whyNotStored } from './policy.ts'
import { cacheStatusValue, replayCaptured, replayStored } from './reply.ts'
import type { HttpRequestInfo } from './request-key.ts'
import {
  type HeaderList,
  ifNoneMatchHits,
  storedBody,
  toStoredResponse,
  variesOnEncoding,
} from './stored-response.ts'

function request(method: string, headers: Record<string, string> = {}): HttpRequestInfo<null> {
  return { method, host: 'h', path: '/', query: '', header: (name) => headers[name], raw: null }
}
const publicOptions = normalizeResponseCacheOptions<null, unknown>({ invalidates: ['posts'] })
const privateOptions = normalizeResponseCacheOptions<null, unknown>({ scope: 'private', session: () => 's' })

describe('normalizeResponseCacheOptions', () => {
  it('throws a ValidationError naming the bad option', () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ ttl: 'soon' }, 'ttl'],
      [{ maxBodySize: 'huge' }, 'maxBodySize'],
      [{ scope: 'private' }, 'session'],
      [{ scope: 'everyone' }, 'scope'],
      [{ statuses: [99] }, 'statuses'],
      [{ vary: 'accept' }, 'vary'],
      [{ tags: [1] }, 'tags'],
      [{ bypass: true }, 'bypass'],
      [{ stale: '1m' }, 'stale'],
    ]
    for (const [options, option] of bad) {
      const error = (() => {
        try {
          normalizeResponseCacheOptions(options)
        } catch (e) {
          return e
        }
      })()
      expect(error, option).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).option).toBe(option)
    }
  })

  it('applies the documented defaults', () => {
    const o = normalizeResponseCacheOptions({})
    expect([...o.statuses]).toEqual([200])
    expect(o.maxBodySize).toBe(1024 * 1024)
    expect(o.scope).toBe('public')
    expect(o.cacheStatusHeader).toBe(false)
  })
})

describe('decideRequest', () => {
  it('caches GET and HEAD only; mutations invalidate when configured', () => {
    expect(decideRequest(request('GET'), publicOptions).action).toBe('cache')
    expect(decideRequest(request('HEAD'), publicOptions).action).toBe('cache')
    expect(decideRequest(request('POST'), publicOptions).action).toBe('invalidate')
    expect(decideRequest(request('OPTIONS'), publicOptions)).toEqual({ action: 'bypass', reason: 'method' })
    expect(decideRequest(request('POST'), normalizeResponseCacheOptions({})).action).toBe('bypass')
  })

  it('bypasses credentials in public scope but not in private scope', () => {
    expect(decideRequest(request('GET', { cookie: 'sid=1' }), publicOptions)).toMatchObject({
      reason: 'credentials',
    })
    expect(decideRequest(request('GET', { authorization: 'Bearer x' }), publicOptions).action).toBe('bypass')
    expect(decideRequest(request('GET', { cookie: 'sid=1' }), privateOptions).action).toBe('cache')
  })

  it('ignores client cache-control unless the bypass predicate allows it', () => {
    const noCache = request('GET', { 'cache-control': 'no-cache', pragma: 'no-cache' })
    expect(decideRequest(noCache, publicOptions).action).toBe('cache')
    const allowing = normalizeResponseCacheOptions<HttpRequestInfo<null>['raw'], unknown>({
      bypass: () => true,
    })
    expect(decideRequest(noCache, allowing)).toEqual({ action: 'bypass', reason: 'bypass-predicate' })
  })

  it('bypasses a GET or HEAD that may rewrite itself: rewrite headers, method overrides, a body', () => {
    const cases: [Record<string, string>, string][] = [
      [{ 'x-original-url': '/admin' }, 'rewrite-header'],
      [{ 'x-rewrite-url': '/admin' }, 'rewrite-header'],
      [{ 'x-http-method-override': 'POST' }, 'method-override'],
      [{ 'x-http-method': 'DELETE' }, 'method-override'],
      [{ 'x-method-override': 'PUT' }, 'method-override'],
      [{ 'content-length': '13', 'content-type': 'application/json' }, 'request-body'],
      [{ 'transfer-encoding': 'chunked' }, 'request-body'],
    ]
    for (const [headers, reason] of cases) {
      for (const method of ['GET', 'HEAD']) {
        expect(decideRequest(request(method, headers), publicOptions), JSON.stringify(headers)).toEqual({
          action: 'bypass',
          reason,
        })
      }
    }
    expect(decideRequest(request('GET', { 'content-length': '0' }), publicOptions).action).toBe('cache')
  })

  it('lets a route opt in: a header listed in vary is keyed, allowBody caches despite a body', () => {
    const keyed = normalizeResponseCacheOptions<null, unknown>({ vary: ['X-Original-URL'] })
    expect(decideRequest(request('GET', { 'x-original-url': '/a' }), keyed).action).toBe('cache')
    expect(decideRequest(request('GET', { 'x-rewrite-url': '/a' }), keyed).action).toBe('bypass')
    const bodies = normalizeResponseCacheOptions<null, unknown>({ allowBody: true })
    expect(decideRequest(request('GET', { 'content-length': '2' }), bodies).action).toBe('cache')
    expect(() => normalizeResponseCacheOptions({ allowBody: 'yes' } as never)).toThrow(ValidationError)
  })
})

describe('whyNotStored', () => {
  const ok = (headers: HeaderList, status = 200, body = Buffer.from('x')) => ({ status, headers, body })
  const check = (headers: HeaderList, options = publicOptions, status = 200) =>
    whyNotStored(ok(headers, status), options as never)

  it('stores a plain 200', () => {
    expect(check([['content-type', 'application/json']])).toBeUndefined()
  })

  it('refuses statuses outside the list, Set-Cookie, no-store, private, event streams', () => {
    expect(check([], publicOptions, 404)).toBe('status')
    expect(check([['set-cookie', 'a=1']])).toBe('set-cookie')
    expect(check([['cache-control', 'public, no-store']])).toBe('no-store')
    expect(check([['cache-control', 'private, max-age=60']])).toBe('private')
    expect(check([['cache-control', 'private']], privateOptions)).toBeUndefined()
    expect(check([['content-type', 'text/event-stream; charset=utf-8']])).toBe('event-stream')
  })

  it('understands Vary: Accept-Encoding and configured vary headers only', () => {
    expect(check([['vary', 'Accept-Encoding']])).toBeUndefined()
    expect(check([['vary', '*']])).toBe('vary')
    expect(check([['vary', 'Origin']])).toBe('vary')
    const withVary = normalizeResponseCacheOptions({ vary: ['Origin'] })
    expect(check([['vary', 'origin, accept-encoding']], withVary as never)).toBeUndefined()
  })

  it('refuses bodies over maxBodySize', () => {
    const small = normalizeResponseCacheOptions({ maxBodySize: 4 })
    expect(whyNotStored(ok([], 200, Buffer.from('12345')), small as never)).toBe('too-large')
    expect(whyNotStored(ok([], 200, Buffer.from('1234')), small as never)).toBeUndefined()
  })
})

describe('stored responses', () => {
  const captured = {
    status: 200,
    headers: [
      ['content-type', 'application/octet-stream'],
      ['connection', 'keep-alive, x-hop'],
      ['x-hop', '1'],
      ['transfer-encoding', 'chunked'],
      ['set-cookie', 'a=1'],
      ['date', 'Mon'],
      ['x-custom', 'a'],
      ['x-custom', 'b'],
    ] as HeaderList,
    body: Buffer.from([0, 255, 1, 128]),
  }

  it('drops hop-by-hop, Set-Cookie and Date and survives JSON with its binary body', () => {
    const stored = JSON.parse(JSON.stringify(toStoredResponse(captured, 1000, 2000)))
    expect(stored.headers).toEqual([
      ['content-type', 'application/octet-stream'],
      ['x-custom', 'a'],
      ['x-custom', 'b'],
    ])
    expect([...storedBody(stored)]).toEqual([0, 255, 1, 128])
    expect(stored.etag).toMatch(/^"[\w-]{27}"$/)
  })

  it('gives different bodies different strong ETags', () => {
    const other = toStoredResponse({ ...captured, body: Buffer.from([0, 255, 1, 129]) }, 0, 1)
    expect(other.etag).not.toBe(toStoredResponse(captured, 0, 1).etag)
  })

  it('replays with Age, X-Cache, Content-Length, and 304 on a matching If-None-Match', () => {
    const stored = toStoredResponse(captured, 1_000, 31_000)
    const hit = replayStored(stored, request('GET'), { state: 'HIT', now: 11_500, cacheStatusHeader: true })
    expect(hit.status).toBe(200)
    expect(hit.headers).toContainEqual(['age', '10'])
    expect(hit.headers).toContainEqual(['x-cache', 'HIT'])
    expect(hit.headers).toContainEqual(['content-length', '4'])
    expect(hit.headers).toContainEqual(['cache-status', 'cachestack; hit; ttl=19'])
    const conditional = request('GET', { 'if-none-match': `"nope", W/${stored.etag}` })
    const notModified = replayStored(stored, conditional, {
      state: 'HIT',
      now: 1_000,
      cacheStatusHeader: false,
    })
    expect(notModified.status).toBe(304)
    expect(notModified.body).toBeNull()
    expect(notModified.headers.some(([n]) => n === 'content-type')).toBe(false)
    expect(notModified.headers).toContainEqual(['etag', stored.etag])
    const head = replayStored(stored, request('HEAD'), { state: 'HIT', now: 1_000, cacheStatusHeader: false })
    expect(head.body?.byteLength).toBe(4)
    expect(head.headers).toContainEqual(['content-length', '4'])
  })

  it('matches If-None-Match weakly and with *', () => {
    expect(ifNoneMatchHits('*', '"a"')).toBe(true)
    expect(ifNoneMatchHits('W/"a"', '"a"')).toBe(true)
    expect(ifNoneMatchHits('"b"', '"a"')).toBe(false)
    expect(ifNoneMatchHits(undefined, '"a"')).toBe(false)
  })

  it('treats an encoded body as varying on Accept-Encoding even without Vary', () => {
    expect(variesOnEncoding([['content-encoding', 'gzip']])).toBe(true)
    expect(variesOnEncoding([['vary', 'Origin, Accept-Encoding']])).toBe(true)
    expect(variesOnEncoding([['content-encoding', 'identity']])).toBe(false)
  })

  it('formats RFC 9211 Cache-Status and passes uncached answers through with X-Cache', () => {
    expect(cacheStatusValue('MISS', undefined, 'stored')).toBe('cachestack; fwd=uri-miss; stored')
    expect(cacheStatusValue('BYPASS', undefined, 'credentials')).toBe(
      'cachestack; fwd=bypass; detail=credentials',
    )
    expect(cacheStatusValue('STALE', -3)).toBe('cachestack; hit; ttl=-3')
    const out = replayCaptured(captured, 'MISS', true, 'set-cookie')
    expect(out.headers).toContainEqual(['set-cookie', 'a=1'])
    expect(out.headers).toContainEqual(['cache-status', 'cachestack; fwd=uri-miss; detail=set-cookie'])
  })
})

import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { CacheStack } from '../cache-stack.ts'
import { forwardedHostAndProto } from '../http/unkeyed-inputs.ts'
import { MemoryLayer } from '../layers/memory-layer.ts'
import {
  type ClientKind,
  type ClientResponse,
  type ContractClient,
  openClient,
  REQUEST_TIMEOUT_MS,
} from './http-clients.ts'
import type { FrameworkView, PoisoningHarness, PoisoningVector } from './http-poisoning-types.ts'
import { RawHttpClient, type RawRequest } from './http-raw-client.ts'
import { createManualClock } from './layer-contract.ts'

export type {
  FrameworkView,
  PoisonableApp,
  PoisoningHarness,
  PoisoningVector,
} from './http-poisoning-types.ts'

const EVIL = 'evil.example'
const page = (headers: Record<string, string>): RawRequest => ({ target: '/page', headers })

/** Headers a handler might read by hand to build links or route (every framework lets it). */
const HAND_READ = [
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-scheme',
  'x-forwarded-ssl',
  'x-host',
  'x-original-url',
  'x-rewrite-url',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
]

/** Every vector the suite tries against every adapter. */
export const POISONING_VECTORS: readonly PoisoningVector[] = [
  { name: 'X-Forwarded-Host', attack: page({ 'x-forwarded-host': EVIL }) },
  { name: 'X-Forwarded-Proto', attack: page({ 'x-forwarded-proto': 'https' }) },
  { name: 'X-Forwarded-Port', attack: page({ 'x-forwarded-port': '8443' }) },
  { name: 'X-Forwarded-Prefix', attack: page({ 'x-forwarded-prefix': '/evil' }) },
  { name: 'X-Forwarded-Scheme', attack: page({ 'x-forwarded-scheme': 'https' }) },
  { name: 'X-Host', attack: page({ 'x-host': EVIL }) },
  {
    name: 'Forwarded host and proto',
    attack: page({ forwarded: `for=203.0.113.9;host=${EVIL};proto=https` }),
  },
  {
    name: 'X-Forwarded-Host added in front of the proxy-set one',
    attack: page({ 'x-forwarded-host': `${EVIL}, www.example`, 'x-forwarded-proto': 'https' }),
    ordinaryHeaders: { 'x-forwarded-host': 'www.example', 'x-forwarded-proto': 'https' },
  },
  { name: 'X-Original-URL', attack: page({ 'x-original-url': '/admin' }), bypass: 'rewrite-header' },
  { name: 'X-Rewrite-URL', attack: page({ 'x-rewrite-url': '/admin' }), bypass: 'rewrite-header' },
  {
    name: 'X-HTTP-Method-Override',
    attack: page({ 'x-http-method-override': 'DELETE' }),
    bypass: 'method-override',
  },
  { name: 'X-HTTP-Method', attack: page({ 'x-http-method': 'DELETE' }), bypass: 'method-override' },
  { name: 'X-Method-Override', attack: page({ 'x-method-override': 'PUT' }), bypass: 'method-override' },
  {
    name: 'a JSON body on GET',
    attack: { target: '/page', headers: { 'content-type': 'application/json' }, body: '{"evil":true}' },
    bypass: 'request-body',
    mayParseAlike: true,
  },
  {
    name: 'a JSON body on HEAD',
    attack: {
      method: 'HEAD',
      target: '/page',
      headers: { 'content-type': 'application/json' },
      body: '{"evil":true}',
    },
    bypass: 'request-body',
    mayParseAlike: true,
  },
  {
    name: 'a chunked JSON body on GET',
    attack: {
      target: '/page',
      headers: { 'content-type': 'application/json' },
      body: '{"evil":true}',
      chunked: true,
    },
    bypass: 'request-body',
    mayParseAlike: true,
  },
  { name: 'encoded & (%26) in a value', attack: { target: '/page?a=1%262' }, ordinary: '/page?a=1&2' },
  { name: 'encoded = (%3D) in a name', attack: { target: '/page?a%3Db=1' }, ordinary: '/page?a=b=1' },
  { name: '; in the query', attack: { target: '/page?a=1;b=2' }, ordinary: '/page?a=1&b=2' },
  { name: 'repeated parameters reordered', attack: { target: '/page?e=2&e=1' }, ordinary: '/page?e=1&e=2' },
  {
    name: 'array syntax reordered',
    attack: { target: '/page?a[0]=2&a[]=1' },
    ordinary: '/page?a[]=1&a[0]=2',
  },
  {
    name: 'plain and array names reordered',
    attack: { target: '/page?a[]=2&a=1' },
    ordinary: '/page?a=1&a[]=2',
  },
  {
    name: 'an invalid UTF-8 escape',
    attack: { target: '/page?q=%C3' },
    ordinary: '/page?q=%EF%BF%BD',
    // Express's `querystring` turns `%C3` into U+FFFD; Fastify and Hono keep it as is.
    mayParseAlike: true,
  },
  { name: 'an encoded + (%2B)', attack: { target: '/page?s=a%2Bb' }, ordinary: '/page?s=a+b' },
  { name: 'a trailing ?', attack: { target: '/page?' } },
  { name: 'an absolute-form target', attack: { target: `http://${EVIL}/page` } },
  {
    name: 'an absolute-form target with a query',
    attack: { target: `http://${EVIL}/page?x=1` },
    ordinary: '/page?x=1',
  },
  { name: 'dot segments', attack: { target: '/evil/../page' }, mayParseAlike: true },
  { name: 'a double slash', attack: { target: '//page' } },
  { name: 'upper case in the path', attack: { target: '/PAGE' } },
  { name: 'a percent-encoded path character', attack: { target: '/%70age' } },
]

function sortedKeys(value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

/**
 * A page as an ordinary handler writes one: absolute links from the host and scheme the framework says it
 * was reached by (or the forwarding headers read by hand), and everything else it read from the request.
 * The query's top-level names are sorted: two parses that differ only in property order are equal values.
 */
export function renderPage(view: FrameworkView): string {
  const forwarded = view.header('forwarded')
  return JSON.stringify({
    method: view.method,
    origin: view.origin,
    url: view.url,
    path: view.path,
    query: sortedKeys(view.query),
    body: view.body ?? null,
    forwarded: forwarded === undefined ? null : forwardedHostAndProto(forwarded),
    handRead: Object.fromEntries(HAND_READ.map((name) => [name, view.header(name) ?? null])),
  })
}

interface Started {
  clock: ReturnType<typeof createManualClock>
  /** The port, which the rendered page shows (the reference and the cached app listen on different ones). */
  port: number
  client: ContractClient
  raw: RawHttpClient
  calls(): number
  close(): Promise<void>
}

async function start(
  harness: PoisoningHarness,
  kind: ClientKind,
  cached: boolean,
  extra: Record<string, unknown> = {},
): Promise<Started> {
  const clock = createManualClock(Date.UTC(2026, 0, 1))
  const cache = new CacheStack([new MemoryLayer()], { clock })
  let calls = 0
  const app = await harness.startPoisonable({
    cache,
    options: cached ? { cacheStatusHeader: true, ttl: '1h', ...extra } : null,
    render: (view) => {
      calls++
      return renderPage(view)
    },
  })
  const client = openClient(kind, app.server)
  const { port } = app.server.address() as AddressInfo
  const raw = await RawHttpClient.open(port)
  return {
    clock,
    port,
    client,
    raw,
    calls: () => calls,
    close: async () => {
      client.close()
      raw.close()
      app.server.closeAllConnections()
      await app.close()
    },
  }
}

const answerOf = (res: ClientResponse, port: number) => ({
  status: res.status,
  body: res.text.replaceAll(`:${port}`, ':<port>'),
})
const xCache = (res: ClientResponse) => res.headers['x-cache']

/**
 * Web cache poisoning, tried as an attacker would against the adapter's real framework: for each vector an
 * attacker's request (written byte for byte on its own keep-alive socket), then an ordinary visitor's on a
 * keep-alive client, who must get exactly what the framework answers without a cache; then the ordinary
 * request again (a HIT: ordinary traffic still caches) and the attack again (never served the ordinary
 * entry). Rewriting vectors must also bypass. Every vector is first run without the cache, so a vector
 * that does not change the answer is reported instead of passing silently.
 */
export function describeHttpPoisoningContract(
  name: string,
  harness: PoisoningHarness,
  options: { clients?: readonly ClientKind[] } = {},
): void {
  const clients = options.clients ?? (['keep-alive agent', 'undici fetch'] as const)
  describe(`${name}: web cache poisoning`, { timeout: 60_000 }, () => {
    for (const kind of clients) {
      describe(kind, () => {
        for (const vector of POISONING_VECTORS) {
          it(`${vector.name}: never reaches another visitor`, async () => {
            const ordinary = vector.ordinary ?? '/page'
            const headers = { ...vector.ordinaryHeaders }
            const reference = await start(harness, kind, false)
            let genuine: { attack: ReturnType<typeof answerOf>; ordinary: ReturnType<typeof answerOf> }
            try {
              genuine = {
                attack: answerOf(await reference.raw.request(vector.attack), reference.port),
                ordinary: answerOf(await reference.client.request('GET', ordinary, headers), reference.port),
              }
            } finally {
              await reference.close()
            }
            if (!vector.mayParseAlike) {
              expect(genuine.attack, 'the attack changes what the framework answers').not.toEqual(
                genuine.ordinary,
              )
            }

            const app = await start(harness, kind, true)
            try {
              const attack = await app.raw.request(vector.attack)
              expect(answerOf(attack, app.port), 'the attacker gets its own answer').toEqual(genuine.attack)
              if (vector.bypass) {
                expect(xCache(attack)).toBe('BYPASS')
                expect(attack.headers['cache-status']).toContain(`detail=${vector.bypass}`)
              }
              const first = await app.client.request('GET', ordinary, headers)
              expect(
                answerOf(first, app.port),
                'the visitor after the attacker gets the genuine answer',
              ).toEqual(genuine.ordinary)
              if (vector.bypass) expect(xCache(first), 'the attack stored nothing').toBe('MISS')
              const again = await app.client.request('GET', ordinary, headers)
              expect([xCache(again), answerOf(again, app.port)], 'ordinary traffic still hits').toEqual([
                'HIT',
                genuine.ordinary,
              ])
              const replay = await app.raw.request(vector.attack)
              expect(answerOf(replay, app.port), 'the attack is never served the ordinary entry').toEqual(
                genuine.attack,
              )
              if (vector.bypass) expect(xCache(replay)).toBe('BYPASS')
              // The same URL never gets two keys: the attacker's own answer was stored, under its own key.
              else if (genuine.attack.status === 200) expect(xCache(replay)).toBe('HIT')
            } finally {
              await app.close()
            }
          })
        }

        it('a route that keys a rewrite header (vary) caches it under its own key, never for others', async () => {
          const app = await start(harness, kind, true, { vary: ['x-original-url'] })
          try {
            const attack: RawRequest = page({ 'x-original-url': '/admin' })
            const first = await app.raw.request(attack)
            expect([first.status, xCache(first)]).toEqual([200, 'MISS'])
            expect(first.text).toContain('/admin')
            const ordinary = await app.client.request('GET', '/page')
            expect([xCache(ordinary), ordinary.text.includes('/admin')]).toEqual(['MISS', false])
            const again = await app.raw.request(attack)
            expect([xCache(again), again.text]).toEqual(['HIT', first.text])
            expect(app.calls()).toBe(2)
          } finally {
            await app.close()
          }
        })

        it('a stale-while-revalidate refresh of a proxied request is answered for the same origin', async () => {
          const app = await start(harness, kind, true, { ttl: '10s', staleWhileRevalidate: '1m' })
          try {
            const headers = { 'x-forwarded-host': 'www.example', 'x-forwarded-proto': 'https' }
            const first = await app.client.request('GET', '/page?swr=1', headers)
            expect(xCache(first)).toBe('MISS')
            app.clock.advance(11_000)
            const stale = await app.client.request('GET', '/page?swr=1', headers)
            expect([xCache(stale), stale.text]).toEqual(['STALE', first.text])
            // The refresh runs in the background: poll for it, up to the client's own request timeout, so a
            // loaded machine slows the case down instead of failing it.
            const deadline = Date.now() + REQUEST_TIMEOUT_MS
            while (app.calls() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
            expect(app.calls(), 'the refresh ran').toBe(2)
            let refreshed = await app.client.request('GET', '/page?swr=1', headers)
            while (xCache(refreshed) !== 'HIT' && Date.now() < deadline) {
              await new Promise((r) => setTimeout(r, 5))
              refreshed = await app.client.request('GET', '/page?swr=1', headers)
            }
            // A copy of the request that reached the framework from an untrusted address would have been
            // answered for the internal host (Express read Host instead of X-Forwarded-Host) and stored.
            expect([xCache(refreshed), refreshed.text]).toEqual(['HIT', first.text])
          } finally {
            await app.close()
          }
        })

        it('ordinary traffic behind a proxy shares one entry whatever client it forwards', async () => {
          const app = await start(harness, kind, true)
          try {
            const via = (client: string) => ({
              'x-forwarded-for': client,
              'x-forwarded-host': 'www.example',
              'x-forwarded-proto': 'https',
              forwarded: `for=${client};by=10.0.0.2;host=www.example;proto=https`,
            })
            const answers = []
            for (let i = 1; i <= 5; i++)
              answers.push(await app.client.request('GET', '/page?p=1', via(`198.51.100.${i}`)))
            expect(answers.map(xCache)).toEqual(['MISS', 'HIT', 'HIT', 'HIT', 'HIT'])
            expect(new Set(answers.map((res) => res.text)).size).toBe(1)
            expect(app.calls()).toBe(1)
            const view = JSON.parse(answers[0]?.text ?? '{}')
            // The framework did trust the proxy (Hono has no such setting; its handlers read the headers).
            expect(view.handRead['x-forwarded-host']).toBe('www.example')
            const poisoned = await app.raw.request({
              target: '/page?p=1',
              headers: { ...via('203.0.113.66'), 'x-forwarded-host': EVIL },
            })
            expect(poisoned.text).toContain(EVIL)
            const after = await app.client.request('GET', '/page?p=1', via('198.51.100.7'))
            expect([xCache(after), after.text]).toEqual(['HIT', answers[0]?.text])
            expect(app.raw.requests).toBe(1)
          } finally {
            await app.close()
          }
        })
      })
    }
  })
}

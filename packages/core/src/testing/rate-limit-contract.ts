// The behaviour every adapter's rate-limit middleware must show, through a real server and real clients
// that keep their connection: counts, 429 with Retry-After and the RateLimit fields, the client address
// the framework trusts (never X-Forwarded-For by default), custom keys, and Redis failures.

import type { Server } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { CacheStack } from '../cache-stack.ts'
import type { RateLimitRouteOptions } from '../http/rate-limit.ts'
import { MemoryLayer } from '../layers/memory-layer.ts'
import { CLIENT_KINDS, type ContractClient, openClient, type StartedApp } from './http-clients.ts'
import { createManualClock } from './layer-contract.ts'

/** How the suite mounts an adapter's middleware: `GET /limited` answers `ok` behind it, `GET /free` without it. */
export interface RateLimitHarness {
  /**
   * Starts an app on 127.0.0.1 whose `/limited` route is behind the adapter's `rateLimit(options)`.
   * With `trustProxy`, the framework is told to trust a proxy on loopback (Express `trust proxy`,
   * Fastify `trustProxy`); an adapter without such a setting leaves `supportsTrustProxy` false.
   */
  start(options: RateLimitRouteOptions<unknown>, trustProxy: boolean): Promise<StartedApp>
  /** True when the framework has a trust-proxy setting the default key follows. */
  supportsTrustProxy: boolean
}

/** Runs the rate-limit middleware contract against one adapter. */
export function describeRateLimitContract(name: string, harness: RateLimitHarness): void {
  describe(`${name} rate-limit middleware (contract)`, () => {
    const opened: { app: StartedApp; clients: ContractClient[]; cache: CacheStack }[] = []
    afterEach(async () => {
      for (const { app, clients, cache } of opened.splice(0)) {
        for (const client of clients) client.close()
        await app.close()
        await cache.disconnect()
      }
    })

    async function open(options: Partial<RateLimitRouteOptions<unknown>> = {}, trustProxy = false) {
      const clock = createManualClock(1_700_000_000_000)
      const cache = new CacheStack([new MemoryLayer()], { clock })
      const app = await harness.start({ cache, limit: 3, window: '1m', ...options }, trustProxy)
      const connections = countConnections(app.server)
      const entry = { app, clients: [] as ContractClient[], cache }
      opened.push(entry)
      const client = (kind: (typeof CLIENT_KINDS)[number]) => {
        const made = openClient(kind, app.server)
        entry.clients.push(made)
        return made
      }
      return { cache, clock, client, connections }
    }

    for (const kind of CLIENT_KINDS) {
      it(`allows the limit, then answers 429 with Retry-After and RateLimit fields (${kind})`, async () => {
        const { client, clock, connections } = await open()
        const c = client(kind)
        const seen = []
        for (let i = 0; i < 3; i++) {
          const res = await c.request('GET', '/limited')
          expect(res.status).toBe(200)
          expect(res.text).toBe('ok')
          seen.push(res.headers['ratelimit-remaining'])
          expect(res.headers['ratelimit-limit']).toBe('3')
          expect(res.headers['ratelimit-policy']).toBe('"default";q=3;w=60')
          clock.advance(10_000)
        }
        expect(seen).toEqual(['2', '1', '0'])
        const refused = await c.request('GET', '/limited')
        expect(refused.status).toBe(429)
        expect(refused.text).toBe('Too Many Requests')
        // The first request leaves the window 60 s after it was made: 30 s from now.
        expect(refused.headers['retry-after']).toBe('30')
        expect(refused.headers['ratelimit-reset']).toBe('30')
        expect(refused.headers.ratelimit).toBe('"default";r=0;t=30')
        expect(refused.headers['cache-control']).toBe('no-store')
        // Routes without the middleware are not counted and carry no fields.
        const free = await c.request('GET', '/free')
        expect(free.status).toBe(200)
        expect(free.headers['ratelimit-limit']).toBeUndefined()
        clock.advance(30_000)
        expect((await c.request('GET', '/limited')).status).toBe(200)
        expect(connections()).toBe(c.expectedConnections())
      })
    }

    it('does not trust X-Forwarded-For by default: forged addresses share the real one', async () => {
      const { client } = await open({ limit: 2 })
      const c = client('keep-alive agent')
      const statuses = []
      for (const forged of ['1.1.1.1', '2.2.2.2', '3.3.3.3']) {
        statuses.push((await c.request('GET', '/limited', { 'x-forwarded-for': forged })).status)
      }
      expect(statuses).toEqual([200, 200, 429])
    })

    if (harness.supportsTrustProxy) {
      it("follows the framework's trust-proxy setting: behind a trusted proxy each client has its own count", async () => {
        const { client } = await open({ limit: 1 }, true)
        const c = client('undici fetch')
        expect((await c.request('GET', '/limited', { 'x-forwarded-for': '203.0.113.7' })).status).toBe(200)
        expect((await c.request('GET', '/limited', { 'x-forwarded-for': '203.0.113.8' })).status).toBe(200)
        expect((await c.request('GET', '/limited', { 'x-forwarded-for': '203.0.113.7' })).status).toBe(429)
      })
    }

    it('counts by a custom key; undefined lets a request through uncounted', async () => {
      const { client } = await open({
        limit: 1,
        key: (req) => harnessHeader(req, 'x-user'),
      })
      const c = client('keep-alive agent')
      expect((await c.request('GET', '/limited', { 'x-user': 'ann' })).status).toBe(200)
      expect((await c.request('GET', '/limited', { 'x-user': 'bob' })).status).toBe(200)
      expect((await c.request('GET', '/limited', { 'x-user': 'ann' })).status).toBe(429)
      for (let i = 0; i < 3; i++) {
        const anonymous = await c.request('GET', '/limited')
        expect(anonymous.status).toBe(200)
        expect(anonymous.headers['ratelimit-limit']).toBeUndefined()
      }
    })
  })
}

/** Reads a request header from whatever request object the framework hands a key resolver. */
export function harnessHeader(req: unknown, name: string): string | undefined {
  const r = req as {
    headers?: Record<string, string | string[] | undefined>
    req?: { header(name: string): string | undefined }
  }
  if (r.req && typeof r.req.header === 'function') return r.req.header(name)
  const value = r.headers?.[name]
  return Array.isArray(value) ? value[0] : value
}

function countConnections(server: Server): () => number {
  let count = 0
  server.on('connection', () => count++)
  return () => count
}

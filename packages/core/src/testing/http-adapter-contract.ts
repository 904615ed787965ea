import { describe, expect, it } from 'vitest'
import { CLIENT_KINDS, type ClientKind, type ClientResponse } from './http-clients.ts'
import { type CaseAnswer, type CaseContext, type CaseSpec, startCase } from './http-contract-app.ts'
import type { HttpAdapterHarness } from './http-harness.ts'
import { describeHttpPoisoningContract } from './http-poisoning.ts'

/** Options of `describeHttpAdapterContract`. */
export interface HttpAdapterContractOptions {
  /** Client kinds to run every case with. @default all of `CLIENT_KINDS` */
  clients?: readonly ClientKind[]
}

/** A response the contract will not store, and the `Cache-Status` detail that says why. */
interface NotStoredCase {
  reason: string
  options?: Record<string, unknown>
  answer: CaseAnswer
  /** Path query adding to the request (a size over the cap). */
  query?: string
}

const JSON_TYPE: readonly [string, string] = ['content-type', 'application/json; charset=utf-8']
const TEXT_TYPE: readonly [string, string] = ['content-type', 'text/plain; charset=utf-8']

const NOT_STORED: readonly NotStoredCase[] = [
  { reason: 'status', answer: { status: 404 } },
  { reason: 'status', answer: { status: 503 } },
  { reason: 'set-cookie', answer: { headers: [JSON_TYPE, ['set-cookie', 'sid=secret']] } },
  { reason: 'no-store', answer: { headers: [JSON_TYPE, ['cache-control', 'no-store']] } },
  { reason: 'private', answer: { headers: [JSON_TYPE, ['cache-control', 'private, max-age=60']] } },
  { reason: 'vary', answer: { headers: [JSON_TYPE, ['vary', '*']] } },
  { reason: 'vary', answer: { headers: [JSON_TYPE, ['vary', 'Origin']] } },
  {
    reason: 'event-stream',
    answer: {
      headers: [
        ['content-type', 'text/event-stream'],
        ['cache-control', 'no-cache'],
      ],
    },
  },
  { reason: 'too-large', options: { maxBodySize: '1kb' }, answer: {}, query: 'size=4096' },
]

const STATS_AUTH = { authorization: 'Bearer stats-token' }
// Waiting for a background refresh on a loaded machine: long enough never to be the reason a case fails.
const POLL = { timeout: 10_000, interval: 20 }

async function withCase(
  harness: HttpAdapterHarness,
  kind: ClientKind,
  spec: CaseSpec,
  body: (ctx: CaseContext) => Promise<void>,
): Promise<void> {
  const ctx = await startCase(harness, kind, spec)
  try {
    await body(ctx)
    // A keep-alive client that needed a second connection met a response that never finished.
    expect(ctx.connections(), `${kind}: connections for ${ctx.requests()} requests`).toBe(
      ctx.client.expectedConnections(),
    )
  } finally {
    await ctx.close()
  }
}

function xCache(res: ClientResponse): string | undefined {
  return res.headers['x-cache']
}

/**
 * The response-caching contract every HTTP adapter passes: registers a Vitest `describe` block that drives
 * the adapter's real server through `harness` with keep-alive clients (a Node `http.Agent` and undici's
 * `fetch`, each request of a case on one socket, which is asserted) and with a new connection per request,
 * over every path: HIT, MISS, STALE, BYPASS, each not-stored reason, 304, HEAD, a throwing handler, a
 * mutation with `invalidates`, the credential leak hunts, private scope, stale-while-revalidate, grace and
 * the stats route, with bodies under and over the cap written in one call and in many; then the web cache
 * poisoning suite (`describeHttpPoisoningContract`) through `harness.startPoisonable`.
 */
export function describeHttpAdapterContract(
  name: string,
  harness: HttpAdapterHarness,
  options: HttpAdapterContractOptions = {},
): void {
  const ways = [...harness.oneCall, ...harness.manyWrites]
  describe(`${name}: HTTP adapter contract`, { timeout: 60_000 }, () => {
    for (const kind of options.clients ?? CLIENT_KINDS) {
      describe(kind, () => {
        it('stores a miss, replays it byte for byte (HIT, Age, ETag), answers HEAD and 304 from it', async () => {
          await withCase(harness, kind, { answer: () => ({ headers: [TEXT_TYPE] }) }, async (ctx) => {
            for (const way of ways) {
              const path = `/c/stored-${way}?write=${way}&size=2048`
              const miss = await ctx.client.request('GET', path)
              expect([miss.status, xCache(miss)], way).toEqual([200, 'MISS'])
              expect(miss.body.byteLength, way).toBe(2048)
              ctx.clock.advance(3_000)
              const hit = await ctx.client.request('GET', path)
              expect([hit.status, xCache(hit), hit.headers.age], way).toEqual([200, 'HIT', '3'])
              expect(hit.body.equals(miss.body), `${way}: same bytes`).toBe(true)
              expect(hit.headers['content-type'], way).toBe(miss.headers['content-type'])
              expect(hit.headers.etag, way).toMatch(/^"[^"]+"$/)
              const head = await ctx.client.request('HEAD', path)
              expect([head.status, xCache(head), head.body.byteLength], way).toEqual([200, 'HIT', 0])
              expect(head.headers['content-length'], way).toBe('2048')
              const notModified = await ctx.client.request('GET', path, {
                'if-none-match': String(hit.headers.etag),
              })
              expect([notModified.status, notModified.body.byteLength], way).toEqual([304, 0])
              expect(ctx.calls(`/c/stored-${way}`), way).toBe(1)
            }
          })
        })

        for (const item of NOT_STORED) {
          const label = item.answer.status ?? item.answer.headers?.[1]?.join(': ') ?? item.query
          it(`does not store (${item.reason}: ${label}) and the connection keeps answering`, async () => {
            const spec: CaseSpec = {
              options: item.options,
              answer: (req) => (req.url.startsWith('/c/not-stored') ? item.answer : undefined),
            }
            await withCase(harness, kind, spec, async (ctx) => {
              for (const way of ways) {
                const path = `/c/not-stored-${way}?write=${way}${item.query ? `&${item.query}` : ''}`
                const first = await ctx.client.request('GET', path)
                const second = await ctx.client.request('GET', path)
                for (const res of [first, second]) {
                  expect([res.status, xCache(res)], way).toEqual([item.answer.status ?? 200, 'MISS'])
                  expect(res.headers['cache-status'], way).toContain(`detail=${item.reason}`)
                }
                expect([JSON.parse(first.text).call, JSON.parse(second.text).call], way).toEqual([1, 2])
                if (item.query) expect(first.body.byteLength, way).toBe(4096)
                expect(ctx.calls(`/c/not-stored-${way}`), way).toBe(2)
              }
              const after = await ctx.client.request('GET', '/c/after')
              expect(after.status).toBe(200)
            })
          })
        }

        it('streams a body over the default 1 MB cap through, unstored, and keeps the connection', async () => {
          await withCase(harness, kind, { answer: () => ({ headers: [TEXT_TYPE] }) }, async (ctx) => {
            for (const way of [harness.oneCall[0], harness.manyWrites[0]]) {
              const path = `/c/big-${way}?write=${way}&size=${1_500_000}`
              for (let round = 1; round <= 2; round++) {
                const res = await ctx.client.request('GET', path)
                expect([res.status, xCache(res), res.body.byteLength], way).toEqual([200, 'MISS', 1_500_000])
              }
              expect(ctx.calls(`/c/big-${way}`), way).toBe(2)
            }
            expect((await ctx.client.request('GET', '/c/after')).status).toBe(200)
          })
        })

        for (const maxBodySize of [undefined, 16]) {
          const cap = maxBodySize === undefined ? 'default cap' : 'an error page over the cap'
          it(`answers a throwing handler with the framework's error, unstored (${cap})`, async () => {
            const spec: CaseSpec = {
              options: maxBodySize === undefined ? {} : { maxBodySize },
              answer: (req) =>
                req.url.startsWith('/c/throw') ? { throws: new Error('database down') } : undefined,
            }
            await withCase(harness, kind, spec, async (ctx) => {
              for (let round = 1; round <= 2; round++) {
                const res = await ctx.client.request('GET', '/c/throw')
                expect(res.status).toBe(500)
                expect(xCache(res)).not.toBe('HIT')
              }
              expect(ctx.calls('/c/throw')).toBe(2)
              const after = await ctx.client.request('GET', '/c/after')
              expect([after.status, xCache(after)]).toEqual([200, 'MISS'])
            })
          })
        }

        for (const way of harness.aroundAdapter ?? []) {
          it(`lets an answer written around the adapter (${way}) through, unstored, holding up no one`, async () => {
            const spec: CaseSpec = { answer: () => ({ headers: [TEXT_TYPE], delayMs: 20 }) }
            await withCase(harness, kind, spec, async (ctx) => {
              const path = `/c/around?write=${way}&size=3000`
              for (let round = 1; round <= 2; round++) {
                const res = await ctx.client.request('GET', path)
                expect([res.status, res.body.byteLength, JSON.parse(res.text).call]).toEqual([
                  200,
                  3000,
                  round,
                ])
              }
              // Requests meeting on the key wait for the first one's answer, which the adapter never sees.
              const together = await Promise.all(
                Array.from({ length: 5 }, () => ctx.client.request('GET', path)),
              )
              expect(together.map((res) => res.status)).toEqual([200, 200, 200, 200, 200])
              expect(ctx.calls('/c/around')).toBe(7)
              expect((await ctx.client.request('GET', '/c/after')).status).toBe(200)
            })
          })
        }

        it('bypasses Cookie and Authorization in public scope: no answer leaks between users', async () => {
          await withCase(harness, kind, {}, async (ctx) => {
            const anonymous = await ctx.client.request('GET', '/c/leak')
            const alice = await ctx.client.request('GET', '/c/leak', { cookie: 'sid=alice' })
            const bob = await ctx.client.request('GET', '/c/leak', { authorization: 'Bearer bob' })
            expect([xCache(anonymous), xCache(alice), xCache(bob)]).toEqual(['MISS', 'BYPASS', 'BYPASS'])
            expect(JSON.parse(alice.text)).toMatchObject({ cookie: 'sid=alice', call: 2 })
            expect(JSON.parse(bob.text)).toMatchObject({ authorization: 'Bearer bob', call: 3 })
            const again = await ctx.client.request('GET', '/c/leak')
            expect(xCache(again)).toBe('HIT')
            expect(JSON.parse(again.text)).toMatchObject({ cookie: null, authorization: null, call: 1 })
            const aliceAgain = await ctx.client.request('GET', '/c/leak', { cookie: 'sid=alice' })
            expect(JSON.parse(aliceAgain.text)).toMatchObject({ cookie: 'sid=alice', call: 4 })
          })
        })

        it('keeps one entry per session in private scope and bypasses requests without one', async () => {
          const session = (req: unknown) =>
            harness.header(req, 'cookie') ?? harness.header(req, 'authorization')
          // Marked private by the handler too: in private scope that is what it should say, and it is stored.
          const spec: CaseSpec = {
            options: { scope: 'private', session },
            answer: () => ({ headers: [JSON_TYPE, ['cache-control', 'private, max-age=60']] }),
          }
          await withCase(harness, kind, spec, async (ctx) => {
            const alice = await ctx.client.request('GET', '/c/me', { cookie: 'sid=alice' })
            const bob = await ctx.client.request('GET', '/c/me', { authorization: 'Bearer bob' })
            const alice2 = await ctx.client.request('GET', '/c/me', { cookie: 'sid=alice' })
            const bob2 = await ctx.client.request('GET', '/c/me', { authorization: 'Bearer bob' })
            const anonymous = await ctx.client.request('GET', '/c/me')
            expect([alice, bob, alice2, bob2, anonymous].map(xCache)).toEqual([
              'MISS',
              'MISS',
              'HIT',
              'HIT',
              'BYPASS',
            ])
            expect(JSON.parse(alice2.text)).toMatchObject({ cookie: 'sid=alice', call: 1 })
            expect(JSON.parse(bob2.text)).toMatchObject({ authorization: 'Bearer bob', call: 2 })
            expect(JSON.parse(anonymous.text)).toMatchObject({ cookie: null, authorization: null, call: 3 })
          })
        })

        it('serves stale while one background request refreshes it (staleWhileRevalidate)', async () => {
          const spec: CaseSpec = { options: { ttl: '10s', staleWhileRevalidate: '1m' } }
          await withCase(harness, kind, spec, async (ctx) => {
            await ctx.client.request('GET', '/c/swr')
            ctx.clock.advance(15_000)
            const stale = await ctx.client.request('GET', '/c/swr')
            expect([xCache(stale), JSON.parse(stale.text).call]).toEqual(['STALE', 1])
            await expect.poll(() => ctx.calls('/c/swr'), POLL).toBe(2)
            await expect
              .poll(async () => {
                const res = await ctx.client.request('GET', '/c/swr')
                return [xCache(res), JSON.parse(res.text).call]
              }, POLL)
              .toEqual(['HIT', 2])
            expect(ctx.calls('/c/swr')).toBe(2)
          })
        })

        it('hides a throwing handler behind the stale response during grace, not after', async () => {
          let failing = false
          const spec: CaseSpec = {
            options: { ttl: '10s', grace: '1h' },
            answer: () => (failing ? { throws: new Error('database down') } : undefined),
          }
          await withCase(harness, kind, spec, async (ctx) => {
            expect((await ctx.client.request('GET', '/c/grace')).status).toBe(200)
            failing = true
            ctx.clock.advance(60_000)
            const graced = await ctx.client.request('GET', '/c/grace')
            expect([graced.status, xCache(graced), JSON.parse(graced.text).call]).toEqual([200, 'STALE', 1])
            ctx.clock.advance(2 * 3_600_000)
            expect((await ctx.client.request('GET', '/c/grace')).status).toBe(500)
          })
        })

        it('purges tagged pages after a 2xx mutation before answering it, and not after a 4xx', async () => {
          const spec: CaseSpec = {
            options: { tags: ['posts'] },
            answer: (req) => {
              if (req.method !== 'POST') return undefined
              const status = Number(req.header('x-status') ?? 201)
              return { status, headers: [TEXT_TYPE], body: 'x'.repeat(Number(req.header('x-size') ?? 2)) }
            },
          }
          await withCase(harness, kind, spec, async (ctx) => {
            await ctx.client.request('GET', '/c/posts?page=1')
            await ctx.client.request('GET', '/c/posts?page=2')
            const rejected = await ctx.client.request('POST', '/c/posts', { 'x-status': '400' })
            expect(rejected.status).toBe(400)
            expect(xCache(await ctx.client.request('GET', '/c/posts?page=1'))).toBe('HIT')
            const created = await ctx.client.request('POST', '/c/posts')
            expect(created.status).toBe(201)
            const pages = [
              await ctx.client.request('GET', '/c/posts?page=1'),
              await ctx.client.request('GET', '/c/posts?page=2'),
            ]
            expect(pages.map(xCache)).toEqual(['MISS', 'MISS'])
            // A mutation answer over the default cap still invalidates and still ends.
            const big = await ctx.client.request('POST', '/c/posts', { 'x-size': String(1_100_000) })
            expect([big.status, big.body.byteLength]).toEqual([201, 1_100_000])
            expect(xCache(await ctx.client.request('GET', '/c/posts?page=1'))).toBe('MISS')
            expect(ctx.calls('/c/posts')).toBe(8)
          })
        })

        it('runs the handler once for concurrent identical misses', async () => {
          const spec: CaseSpec = { answer: () => ({ delayMs: 50 }) }
          await withCase(harness, kind, spec, async (ctx) => {
            const answers = await Promise.all(
              Array.from({ length: 20 }, () => ctx.client.request('GET', '/c/herd')),
            )
            expect(answers.every((res) => res.status === 200 && JSON.parse(res.text).call === 1)).toBe(true)
            expect(ctx.calls('/c/herd')).toBe(1)
          })
        })

        it('serves stats only to an authorized request, never cacheable', async () => {
          await withCase(harness, kind, {}, async (ctx) => {
            await ctx.client.request('GET', '/c/counted')
            await ctx.client.request('GET', '/c/counted')
            const denied = await ctx.client.request('GET', '/stats')
            const allowed = await ctx.client.request('GET', '/stats', STATS_AUTH)
            expect([denied.status, allowed.status]).toEqual([403, 200])
            for (const res of [denied, allowed]) {
              expect(res.headers['cache-control']).toBe('no-store')
              expect(res.headers['x-content-type-options']).toBe('nosniff')
            }
            expect(JSON.parse(allowed.text)).toMatchObject({ hits: 1, misses: 1 })
            expect(denied.text).not.toContain('hits')
          })
        })
      })
    }
  })
  // Poisoning needs a keep-alive visitor beside the attacker's socket; a connection per request adds nothing.
  const keepAlive = (options.clients ?? CLIENT_KINDS).filter((kind) => kind !== 'new connection each')
  describeHttpPoisoningContract(name, harness, { clients: keepAlive })
}

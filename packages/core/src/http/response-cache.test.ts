import { describe, expect, it } from 'vitest'
import { CacheStack } from '../cache-stack.ts'
import { MemoryLayer } from '../layers/memory-layer.ts'
import type { HandlerRun } from './refresh.ts'
import type { HttpRequestInfo } from './request-key.ts'
import { ResponseCache, type ServeOutcome } from './response-cache.ts'
import type { HeaderList } from './stored-response.ts'

type Req = { id: number }

function request(path: string, headers: Record<string, string> = {}, method = 'GET'): HttpRequestInfo<Req> {
  const [p, q] = path.split('?')
  return {
    method,
    host: 'api.test:80',
    path: p ?? '/',
    query: q ?? '',
    header: (n) => headers[n],
    raw: { id: 1 },
  }
}

function handler(status = 200, headers: HeaderList = [['content-type', 'text/plain']], delay = 0) {
  let calls = 0
  return {
    get calls() {
      return calls
    },
    produce: async (): Promise<HandlerRun<null>> => {
      calls++
      if (delay) await new Promise((r) => setTimeout(r, delay))
      return {
        kind: 'captured',
        response: { status, headers, body: Buffer.from(`body ${calls}`) },
        res: null,
      }
    },
  }
}

function header(outcome: ServeOutcome, name: string): string | undefined {
  return outcome.action === 'send' ? outcome.response.headers.find(([n]) => n === name)?.[1] : undefined
}
function body(outcome: ServeOutcome): string | undefined {
  return outcome.action === 'send' ? Buffer.from(outcome.response.body ?? []).toString() : undefined
}

function setup(options: Record<string, unknown> = {}) {
  const clock = { time: 1_000_000, now: () => clock.time }
  const cache = new CacheStack([new MemoryLayer()], { clock })
  const http = new ResponseCache<Req, null>({ cache, clock, ...options })
  return { cache, clock, http }
}

describe('ResponseCache', () => {
  it('stores a miss and replays it as a hit with Age', async () => {
    const { clock, http } = setup({ ttl: '1m' })
    const h = handler()
    const miss = await http.serve(request('/a?x=1&y=2'), h)
    expect(header(miss, 'x-cache')).toBe('MISS')
    clock.time += 5_000
    const hit = await http.serve(request('/a?y=2&x=1'), h)
    expect(header(hit, 'x-cache')).toBe('HIT')
    expect(header(hit, 'age')).toBe('5')
    expect(body(hit)).toBe('body 1')
    expect(h.calls).toBe(1)
  })

  it('runs the handler once for 1,000 concurrent identical misses', async () => {
    const { http } = setup()
    const h = handler(200, [['content-type', 'text/plain']], 20)
    const outcomes = await Promise.all(Array.from({ length: 1000 }, () => http.serve(request('/burst'), h)))
    expect(h.calls).toBe(1)
    expect(new Set(outcomes.map(body))).toEqual(new Set(['body 1']))
    expect(outcomes.filter((o) => header(o, 'x-cache') === 'MISS')).toHaveLength(1)
  })

  it('lets each waiter run its own handler when the response is not storable', async () => {
    const { http } = setup()
    const h = handler(200, [['set-cookie', 'a=1']], 20)
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => http.serve(request('/cookie'), h)))
    const own = outcomes.filter((o) => o.action === 'send')
    expect(own).toHaveLength(1)
    expect(header(own[0]!, 'x-cache')).toBe('MISS')
    expect(outcomes.filter((o) => o.action === 'run')).toHaveLength(4)
  })

  it('keys encoded responses by the normalized Accept-Encoding', async () => {
    const { http } = setup()
    let calls = 0
    const produce = async (): Promise<HandlerRun<null>> => {
      calls++
      const gzip = calls === 1
      const headers: HeaderList = [['vary', 'Accept-Encoding']]
      if (gzip) headers.push(['content-encoding', 'gzip'])
      return {
        kind: 'captured',
        response: { status: 200, headers, body: Buffer.from(gzip ? 'gz' : 'plain') },
        res: null,
      }
    }
    expect(body(await http.serve(request('/e', { 'accept-encoding': 'gzip' }), { produce }))).toBe('gz')
    const plain = await http.serve(request('/e'), { produce })
    expect(body(plain)).toBe('plain')
    expect(header(plain, 'content-encoding')).toBeUndefined()
    const again = await http.serve(request('/e', { 'accept-encoding': 'gzip;q=1' }), { produce })
    expect([body(again), header(again, 'x-cache')]).toEqual(['gz', 'HIT'])
    expect(calls).toBe(2)
  })

  it('serves HEAD from the GET entry and never fills it from HEAD', async () => {
    const { http } = setup()
    const h = handler()
    expect(await http.serve(request('/h', {}, 'HEAD'), h)).toMatchObject({ action: 'run' })
    expect(h.calls).toBe(0)
    await http.serve(request('/h'), h)
    const head = await http.serve(request('/h', {}, 'HEAD'), h)
    expect(head.action === 'send' && head.response.status).toBe(200)
    expect(header(head, 'x-cache')).toBe('HIT')
  })

  it('separates sessions in private scope and bypasses requests without one', async () => {
    const sessions = new Map([[1, 'alice']])
    const { http } = setup({ scope: 'private', session: (req: Req) => sessions.get(req.id) })
    const h = handler()
    await http.serve(request('/me', { cookie: 'sid=a' }), h)
    sessions.set(1, 'bob')
    expect(header(await http.serve(request('/me', { cookie: 'sid=b' }), h), 'x-cache')).toBe('MISS')
    sessions.clear()
    expect(await http.serve(request('/me'), h)).toMatchObject({ action: 'run' })
    expect(h.calls).toBe(2)
  })

  it('serves stale at once and refreshes through a re-dispatched request', async () => {
    const { clock, http } = setup({ ttl: '10s', staleWhileRevalidate: '1m' })
    const h = handler()
    const dispatched: string[] = []
    const dispatch = (headers: Record<string, string>) => {
      const refresh = request('/swr', headers)
      dispatched.push(Object.values(headers)[0] ?? '')
      const role = http.refreshRole(refresh)
      if (role.role === 'owner') void h.produce().then(role.deliver)
    }
    await http.serve(request('/swr'), { ...h, dispatch })
    clock.time += 15_000
    const stale = await http.serve(request('/swr'), { ...h, dispatch })
    expect([header(stale, 'x-cache'), body(stale)]).toEqual(['STALE', 'body 1'])
    await new Promise((r) => setTimeout(r, 20))
    expect(dispatched).toHaveLength(1)
    expect(http.refreshRole(request('/swr', { 'x-cachestack-refresh': dispatched[0]! })).role).toBe('none')
    const fresh = await http.serve(request('/swr'), { ...h, dispatch })
    expect([header(fresh, 'x-cache'), body(fresh)]).toEqual(['HIT', 'body 2'])
  })

  it('hides a 5xx behind the stale response during grace', async () => {
    const { clock, http } = setup({ ttl: '10s', grace: '1h' })
    await http.serve(request('/g'), handler())
    clock.time += 60_000
    const failing = handler(503)
    const outcome = await http.serve(request('/g'), failing)
    expect(failing.calls).toBe(1)
    expect([outcome.action, header(outcome, 'x-cache'), body(outcome)]).toEqual(['send', 'STALE', 'body 1'])
    clock.time += 2 * 3_600_000
    const after = await http.serve(request('/g'), handler(503))
    expect(after.action === 'send' && after.response.status).toBe(503)
  })

  it('invalidates tags after a 2xx mutation only', async () => {
    const { http } = setup({ tags: ['posts'], invalidates: ['posts'] })
    const h = handler()
    await http.serve(request('/posts?page=1'), h)
    await http.afterMutation(request('/posts', {}, 'POST'), 400, null)
    expect(header(await http.serve(request('/posts?page=1'), h), 'x-cache')).toBe('HIT')
    await http.afterMutation(request('/posts', {}, 'POST'), 201, null)
    expect(header(await http.serve(request('/posts?page=1'), h), 'x-cache')).toBe('MISS')
    expect(h.calls).toBe(2)
  })

  it('answers a streamed miss with done', async () => {
    const { http } = setup()
    const outcome = await http.serve(request('/big'), {
      produce: async () => ({ kind: 'streamed', reason: 'too-large' }),
    })
    expect(outcome).toEqual({ action: 'done' })
  })
})

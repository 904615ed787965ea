// What the real-Prometheus test runs: two instances of an app (one stack each, memory + Redis + bus,
// both named 'catalog', each with its own registry and /metrics on its own port, as two pods would be),
// traffic that goes through phases (cold keys, hot keys, a Redis pause, invalidations), and a small
// client of Prometheus's HTTP API.
import type { ChildProcess } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import { CacheStack, MemoryLayer, RedisBus, RedisLayer } from '@cachestack/core'
import { Redis } from 'ioredis'
import { Registry } from 'prom-client'
import { prometheusMetrics } from './index.ts'

/** One app instance: its stack, its registry, its /metrics server. */
export interface AppInstance {
  cache: CacheStack
  target: string
  close(): Promise<void>
}

/** Starts an instance talking to the Redis at `redisUrl`, serving `/metrics` on a spare loopback port. */
export async function startInstance(redisUrl: string): Promise<AppInstance> {
  const client = new Redis(redisUrl, { lazyConnect: false })
  client.on('error', () => {}) // the pause below makes it complain; the stack reports what matters
  const cache = new CacheStack(
    [new MemoryLayer({ maxBytes: '4mb' }), new RedisLayer({ client, commandTimeout: '300ms' })],
    {
      name: 'catalog',
      bus: new RedisBus({ client }),
      ttl: '2s',
      staleWhileRevalidate: '1m',
      gracefulDegradation: { retryAfter: '500ms' },
    },
  )
  cache.on('error', () => {})
  const registry = new Registry()
  const stop = prometheusMetrics(cache, { registry })
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end()
      return
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    cache,
    target: `127.0.0.1:${port}`,
    async close() {
      stop()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await cache.disconnect()
      client.disconnect()
    },
  }
}

/** Phases of one traffic cycle, in seconds from its start. */
const CYCLE = 20
const phaseAt = (seconds: number): 'cold' | 'hot' | 'outage' | 'churn' => {
  const t = seconds % CYCLE
  return t < 5 ? 'cold' : t < 11 ? 'hot' : t < 14 ? 'outage' : 'churn'
}

/**
 * Runs traffic on both instances until `stop()`: reads of a hot set (hits, then stale serves and
 * background refreshes as their 2 s ttl passes), cold keys (misses and factory runs), bursts of
 * concurrent reads of one new key (coalesced waiters), a failing factory now and then, writes and tag
 * invalidations (bus traffic between the two), and a 3 s pause of Redis (SIGSTOP: the Redis layer
 * degrades, then recovers) in each 20 s cycle. Batches are paced by a short timer so the machine's
 * other work goes on.
 */
export function runTraffic(
  instances: readonly AppInstance[],
  redis: ChildProcess,
): { stop(): Promise<void> } {
  let running = true
  let paused = false
  const started = performance.now()
  const setPaused = (on: boolean) => {
    if (on === paused || redis.pid === undefined) return
    process.kill(redis.pid, on ? 'SIGSTOP' : 'SIGCONT')
    paused = on
  }
  const loop = (async () => {
    let n = 0
    while (running) {
      const phase = phaseAt((performance.now() - started) / 1000)
      setPaused(phase === 'outage')
      const work: Promise<unknown>[] = []
      for (const [i, { cache }] of instances.entries()) {
        const hot = phase === 'cold' ? 10 : 40
        for (let k = 0; k < hot; k++) {
          const key = `product:${(n * 7 + k) % 60}`
          work.push(cache.get(key, () => ({ id: key, price: n }), { tags: ['products'] }))
        }
        const cold = phase === 'cold' ? 20 : 3
        for (let k = 0; k < cold; k++) work.push(cache.get(`cold:${i}:${n}:${k}`, () => ({ n, k })))
        if (n % 4 === 0) {
          const key = `burst:${i}:${n}`
          for (let w = 0; w < 5; w++) work.push(cache.get(key, () => delay(5).then(() => w)))
        }
        if (n % 6 === 0) {
          work.push(
            cache.get(`flaky:${n}`, () => {
              throw new Error('upstream down')
            }),
          )
        }
        if (phase === 'churn' || n % 10 === 0) {
          work.push(cache.set(`product:${n % 60}`, { id: n, price: n }, { tags: ['products'] }))
        }
        if (phase === 'churn' && n % 5 === 0) work.push(cache.invalidateByTag('products'))
        // A tag of nothing hot: the invalidation is counted and sent on the bus, the hot set goes stale.
        if (n % 40 === 0) work.push(cache.invalidateByTag('promotions'))
        if (n % 25 === 0) work.push(cache.delete(`product:${(n + 3) % 60}`))
      }
      await Promise.allSettled(work)
      n++
      await delay(20)
    }
  })()
  return {
    async stop() {
      running = false
      await loop
      setPaused(false)
    },
  }
}

/** One series of an instant or range query. */
export interface PromSeries {
  metric: Record<string, string>
  value?: [number, string]
  values?: [number, string][]
}

/** A client of Prometheus's HTTP API (undici's fetch: keep-alive, one socket for the many polls). */
export class PrometheusApi {
  readonly #url: string
  constructor(url: string) {
    this.#url = url
  }

  async #get(path: string, params: Record<string, string>): Promise<unknown> {
    const response = await fetch(`${this.#url}${path}?${new URLSearchParams(params)}`)
    const body = (await response.json()) as { status: string; data: unknown; error?: string }
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error ?? response.status}`)
    return body.data
  }

  /** An instant query, evaluated now. */
  async query(expr: string): Promise<PromSeries[]> {
    const data = (await this.#get('/api/v1/query', { query: expr })) as { result: PromSeries[] }
    return data.result
  }

  /** A range query, `step` seconds apart. */
  async queryRange(expr: string, start: number, end: number, step: number): Promise<PromSeries[]> {
    const params = { query: expr, start: String(start), end: String(end), step: String(step) }
    const data = (await this.#get('/api/v1/query_range', params)) as { result: PromSeries[] }
    return data.result
  }

  /** The label sets of the series matching `match`. */
  async series(match: string): Promise<Record<string, string>[]> {
    return (await this.#get('/api/v1/series', { 'match[]': match })) as Record<string, string>[]
  }
}

/** Polls `check` until it returns something other than `undefined`, or fails with `what` at the deadline. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline)
      throw new Error(`${what} within ${timeoutMs} ms${last ? ` (last: ${last})` : ''}`)
    await delay(250)
  }
}

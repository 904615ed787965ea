import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CacheStack } from '../cache-stack.ts'
import { RedisBus } from '../distributed/redis-bus.ts'
import { ValidationError } from '../errors.ts'
import { type HealthRouteConfig, healthResponder } from '../http/health.ts'
import { MemoryLayer } from '../layers/memory-layer.ts'
import { RedisLayer } from '../layers/redis-layer.ts'
import { type ClientKind, type ClientResponse, openClient, type StartedApp } from './http-clients.ts'

/** How an adapter's test mounts its `healthRoute` for the health contract. */
export interface HealthHarness {
  /**
   * Starts an app on 127.0.0.1 answering `GET /ready` with `healthRoute({ cache, probe: 'readiness' })`,
   * `GET /ready-degraded` with the same plus `allowDegraded: true`, and `GET /live` with
   * `healthRoute({ cache, probe: 'liveness' })`.
   */
  start(cache: CacheStack): Promise<StartedApp>
}

/** A Redis of the test's own, which the contract pauses (SIGSTOP) and resumes. */
export interface PausableRedis {
  readonly url: string
  pause(): void
  resume(): void
  stop(): void | Promise<void>
}

/** Options of `describeHealthRouteContract`. */
export interface HealthContractOptions {
  /** Starts the Redis the stack under test uses (tools/test-services.ts `startRedis` in this repository). */
  startRedis(): Promise<PausableRedis>
}

/** The stack's Redis commands wait this long before failing: readiness answers within about that. */
const COMMAND_TIMEOUT = 300
/**
 * Far above COMMAND_TIMEOUT on a loaded 2-core machine, far below the 10 s+ (or never) of an unbounded
 * ping: the bound only has to fail on a probe that waits for Redis.
 */
const BOUND_MS = 3_000
const KINDS: readonly ClientKind[] = ['keep-alive agent', 'undici fetch']

/**
 * The health routes of one framework against a real stack (memory + Redis + bus) through real sockets:
 * both probes answer 200 with every part up; with Redis paused readiness answers 503 within a bound
 * set by the command timeout while liveness stays 200 (and `allowDegraded` keeps readiness at 200);
 * readiness comes back once Redis answers again.
 */
export function describeHealthRouteContract(
  framework: string,
  harness: HealthHarness,
  options: HealthContractOptions,
): void {
  describe(`${framework} healthRoute (health contract)`, () => {
    let redis: PausableRedis
    let client: Redis
    let cache: CacheStack
    let app: StartedApp

    beforeAll(async () => {
      redis = await options.startRedis()
      client = new Redis(redis.url)
      cache = new CacheStack(
        [new MemoryLayer(), new RedisLayer({ client, commandTimeout: COMMAND_TIMEOUT })],
        {
          name: 'health',
          bus: new RedisBus({ client }),
        },
      )
      cache.on('error', () => {})
      await cache.ready()
      app = await harness.start(cache)
    })

    afterAll(async () => {
      redis?.resume()
      await app?.close()
      await cache?.disconnect()
      client?.disconnect()
      await redis?.stop()
    })

    const json = (response: ClientResponse) => JSON.parse(response.text) as Record<string, unknown>

    it('answers 200 to both probes with every part up, many requests on one kept-alive connection', async () => {
      for (const kind of KINDS) {
        const http = openClient(kind, app.server)
        try {
          for (let i = 0; i < 3; i++) {
            const ready = await http.request('GET', '/ready')
            expect(ready.status, kind).toBe(200)
            expect(ready.headers['cache-control']).toBe('no-store')
            expect(ready.headers['content-type']).toMatch(/^application\/json/)
            expect(json(ready)).toMatchObject({
              status: 'ok',
              probe: 'readiness',
              layers: [
                { name: 'memory', healthy: true, degraded: false },
                { name: 'redis', healthy: true, degraded: false },
              ],
              bus: { connected: true },
            })
            const live = await http.request('GET', '/live')
            expect(live.status).toBe(200)
            expect(json(live)).toEqual({ status: 'ok', probe: 'liveness' })
          }
        } finally {
          http.close()
        }
      }
    })

    it('Redis paused: readiness 503 within the command timeout bound, liveness 200, allowDegraded 200; ready again once Redis answers', async () => {
      const http = openClient('keep-alive agent', app.server)
      try {
        redis.pause()
        const started = performance.now()
        const ready = await http.request('GET', '/ready')
        const ms = performance.now() - started
        expect(ready.status).toBe(503)
        expect(ms).toBeLessThan(BOUND_MS)
        const body = json(ready) as { status: string; layers: { name: string; healthy: boolean }[] }
        expect(body.status).toBe('unavailable')
        expect(body.layers.find((layer) => layer.name === 'redis')?.healthy).toBe(false)
        expect(body.layers.find((layer) => layer.name === 'memory')?.healthy).toBe(true)
        expect(JSON.stringify(body)).not.toContain('127.0.0.1') // no error text naming hosts
        expect((await http.request('GET', '/live')).status).toBe(200)
        expect((await http.request('GET', '/ready-degraded')).status).toBe(200)
        redis.resume()
        const deadline = Date.now() + 15_000
        let status = 0
        while (Date.now() < deadline && status !== 200) {
          status = (await http.request('GET', '/ready')).status
        }
        expect(status).toBe(200)
      } finally {
        redis.resume()
        http.close()
      }
    })

    it('Redis gone (process killed, connections refused): readiness 503 within the bound, liveness 200', async () => {
      const http = openClient('undici fetch', app.server)
      try {
        await redis.stop()
        const started = performance.now()
        const ready = await http.request('GET', '/ready')
        expect(ready.status).toBe(503)
        expect(performance.now() - started).toBeLessThan(BOUND_MS)
        expect((await http.request('GET', '/live')).status).toBe(200)
      } finally {
        http.close()
      }
    })

    it('refuses unknown or wrong options when mounted', () => {
      const loose = (config: object) => () => healthResponder(config as HealthRouteConfig)
      expect(loose({ cache, probe: 'readiness', alowDegraded: true })).toThrow(
        '"alowDegraded" is not an option of healthRoute(); did you mean "allowDegraded"?',
      )
      expect(loose({ cache, probe: 'startup' })).toThrow(ValidationError)
      expect(loose({ cache: {}, probe: 'liveness' })).toThrow('"cache"')
      expect(loose({ cache, probe: 'readiness', timeout: 'soon' })).toThrow(ValidationError)
    })
  })
}

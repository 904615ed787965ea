// The servers the HTTP scenarios drive: per framework a plain app (the handler alone, and a static
// route), an app behind cachestack's adapter, and one behind the framework's nearest peer middleware.
// Each is its own server, so a plain route never pays for a plugin's hooks it does not use.

import type { Server } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { CacheStack, MemoryLayer, RedisLayer } from '@cachestack/core'
import { cacheResponses } from '@cachestack/express'
import cachestackFastify from '@cachestack/fastify'
import { cache as cachestackHono } from '@cachestack/hono'
import { serve } from '@hono/node-server'
import express, { type RequestHandler } from 'express'
import Fastify, { type FastifyPluginCallback } from 'fastify'
import { Hono } from 'hono'
import { cache as honoCache } from 'hono/cache'
import { Redis } from 'ioredis'
import type { BenchRedis } from './redis-server.ts'
import { makeValue } from './value.ts'

export type Framework = 'express' | 'fastify' | 'hono'
export type Workload = 'json' | 'db'
export type AppRole = 'plain' | 'cachestack' | 'peer'

/** Simulated database round trip of the `db` workload. */
export const DB_MS = 5
/** Body of the static route. */
export const STATIC_BODY = 'ok'

// apicache ships no types, and @fastify/caching's types declare `FastifyInstance.cache` with a type
// other than @cachestack/fastify's (both decorate `cache`, so they also need separate instances):
// loading both through require keeps their declarations out of this program.
const require = createRequire(import.meta.url)
interface ApiCache {
  newInstance(options: { defaultDuration: string }): ApiCache
  middleware(duration?: string): RequestHandler
  clear(): void
}
const apicache = require('apicache') as ApiCache
const fastifyCaching = require('@fastify/caching') as FastifyPluginCallback<{
  privacy: string
  expiresIn: number
}>

/** Handler calls per `${role}:${workload}`, so a check can prove a cached route ran its handler once. */
export class CallCounter {
  readonly #calls = new Map<string, number>()
  count(role: AppRole, workload: Workload): void {
    const name = `${role}:${workload}`
    this.#calls.set(name, (this.#calls.get(name) ?? 0) + 1)
  }
  get(role: AppRole, workload: Workload): number {
    return this.#calls.get(`${role}:${workload}`) ?? 0
  }
}

/** The work behind a route: a ~1 KB record built and serialized, after a simulated DB call for `db`. */
async function produce(workload: Workload): Promise<Record<string, unknown>> {
  if (workload === 'db') await new Promise((resolve) => setTimeout(resolve, DB_MS))
  return makeValue(workload === 'db' ? 2 : 1)
}

export interface RunningApp {
  port: number
  close(): Promise<void>
}

export interface FrameworkApps {
  framework: Framework
  peer: string
  /** Why the peer cannot run here (printed as the row's status instead of leaving it out). */
  peerUnavailable?: string | undefined
  /** What the peer does and does not do, for the table notes. */
  peerNote?: string | undefined
  /** Whether the peer keeps responses server-side (then its handler, too, must run once). */
  peerStores: boolean
  counter: CallCounter
  apps: Partial<Record<AppRole, RunningApp>>
  close(): Promise<void>
}

async function listenNode(server: Server): Promise<RunningApp> {
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function twoTierStack(redis: BenchRedis, framework: Framework) {
  const client = new Redis({ host: redis.host, port: redis.port, db: redis.db })
  const cache = new CacheStack(
    [new MemoryLayer(), new RedisLayer({ client, prefix: `bench-http-${framework}:` })],
    { ttl: '10m' },
  )
  return {
    cache,
    async close() {
      await cache.disconnect()
      client.disconnect()
    },
  }
}

const WORKLOADS: readonly Workload[] = ['json', 'db']

async function expressApps(counter: CallCounter, redis: BenchRedis): Promise<FrameworkApps> {
  const stack = twoTierStack(redis, 'express')
  const api = apicache.newInstance({ defaultDuration: '10 minutes' })
  const build = (role: AppRole) => {
    const app = express()
    if (role === 'plain') app.get('/static', (_req, res) => void res.type('text/plain').send(STATIC_BODY))
    for (const workload of WORKLOADS) {
      const handler: RequestHandler = (_req, res, next) => {
        counter.count(role, workload)
        produce(workload).then((value) => res.json(value), next)
      }
      if (role === 'cachestack') {
        app.get(`/${workload}`, cacheResponses({ cache: stack.cache, ttl: '10m' }), handler)
      } else if (role === 'peer') app.get(`/${workload}`, api.middleware('10 minutes'), handler)
      else app.get(`/${workload}`, handler)
    }
    return listenNode(app.listen(0, '127.0.0.1'))
  }
  const apps = {
    plain: await build('plain'),
    cachestack: await build('cachestack'),
    peer: await build('peer'),
  }
  return {
    framework: 'express',
    peer: 'apicache',
    peerStores: true,
    counter,
    apps,
    async close() {
      for (const app of Object.values(apps)) await app.close()
      api.clear()
      await stack.close()
    },
  }
}

async function fastifyApps(counter: CallCounter, redis: BenchRedis): Promise<FrameworkApps> {
  const stack = twoTierStack(redis, 'fastify')
  const build = async (role: AppRole) => {
    const app = Fastify()
    if (role === 'cachestack') await app.register(cachestackFastify, { cache: stack.cache, ttl: '10m' })
    if (role === 'peer') await app.register(fastifyCaching, { privacy: 'public', expiresIn: 600 })
    if (role === 'plain')
      app.get('/static', async (_request, reply) => reply.type('text/plain').send(STATIC_BODY))
    for (const workload of WORKLOADS) {
      app.get(`/${workload}`, { config: role === 'cachestack' ? { cache: true } : {} }, async () => {
        counter.count(role, workload)
        return produce(workload)
      })
    }
    await app.listen({ port: 0, host: '127.0.0.1' })
    return { port: (app.server.address() as AddressInfo).port, close: () => app.close() }
  }
  const apps = {
    plain: await build('plain'),
    cachestack: await build('cachestack'),
    peer: await build('peer'),
  }
  return {
    framework: 'fastify',
    peer: '@fastify/caching',
    peerStores: false,
    peerNote:
      '@fastify/caching only sets Cache-Control/Expires and answers 304 to a matching ETag: it keeps no responses server-side, so its handler runs on every request',
    counter,
    apps,
    async close() {
      for (const app of Object.values(apps)) await app.close()
      await stack.close()
    },
  }
}

/** Hono's own cache middleware needs the Web Cache API; returns why it cannot run, or undefined. */
function honoCacheUnavailable(): string | undefined {
  let reason: string | undefined
  honoCache({ cacheName: 'bench', wait: true, onCacheNotAvailable: (why) => (reason = why) })
  return reason === undefined ? undefined : `not runnable on Node (${reason.replace(/\.$/, '')})`
}

async function honoApps(counter: CallCounter, redis: BenchRedis): Promise<FrameworkApps> {
  const stack = twoTierStack(redis, 'hono')
  const peerUnavailable = honoCacheUnavailable()
  const build = (role: AppRole) => {
    const app = new Hono()
    if (role === 'plain') app.get('/static', (c) => c.text(STATIC_BODY))
    for (const workload of WORKLOADS) {
      const path = `/${workload}`
      if (role === 'cachestack') app.use(path, cachestackHono({ cache: stack.cache, ttl: '10m' }))
      if (role === 'peer') app.use(path, honoCache({ cacheName: 'bench', wait: true }))
      app.get(path, async (c) => {
        counter.count(role, workload)
        return c.json(await produce(workload))
      })
    }
    return listenNode(serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server)
  }
  const apps: Partial<Record<AppRole, RunningApp>> = {
    plain: await build('plain'),
    cachestack: await build('cachestack'),
    ...(peerUnavailable ? {} : { peer: await build('peer') }),
  }
  return {
    framework: 'hono',
    peer: 'hono/cache',
    peerUnavailable,
    peerStores: true,
    peerNote: peerUnavailable
      ? 'hono/cache needs the Web Cache API (globalThis.caches), which Node lacks; on Node it passes every request through'
      : undefined,
    counter,
    apps,
    async close() {
      for (const app of Object.values(apps)) await app?.close()
      await stack.close()
    },
  }
}

/** Starts every app of `framework` on a free loopback port. */
export function startApps(framework: Framework, redis: BenchRedis): Promise<FrameworkApps> {
  const counter = new CallCounter()
  if (framework === 'express') return expressApps(counter, redis)
  if (framework === 'fastify') return fastifyApps(counter, redis)
  return honoApps(counter, redis)
}

import { Readable } from 'node:stream'
import type { CacheStack } from '@cachestack/core'
import {
  captureAnswer,
  deleteConditionalHeaders,
  describeRequest,
  groupHeaders,
  type HandlerRun,
  type HeaderList,
  type HealthRouteConfig,
  headerListFrom,
  healthResponder,
  type OutgoingResponse,
  type RateLimitRouteOptions,
  ResponseCache,
  type ResponseCacheConfig,
  type ResponseCacheOptions,
  rateLimiter,
  type ServeOutcome,
  type StatsRouteConfig,
  statsResponder,
  withoutConditionalHeaders,
} from '@cachestack/core/http'
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onRequestAsyncHookHandler,
  RouteHandlerMethod,
} from 'fastify'
import fp from 'fastify-plugin'

/** Per-route options, given as `config: { cache: {...} }` (or `cache: true` for the plugin's defaults). */
export type RouteCacheOptions = ResponseCacheOptions<FastifyRequest, FastifyReply>

/** Options of the plugin's `stats` option: the `authorize(request)` check and where to mount the route. */
export interface StatsRouteOptions extends Omit<StatsRouteConfig<FastifyRequest>, 'cache'> {
  /** Where the plugin mounts the route. @default '/cache/stats' */
  path?: string
}

/**
 * Options of the plugin: the stack, defaults for every cached route (docs/http.md), and the optional stats
 * route.
 */
export interface CachePluginOptions extends Omit<ResponseCacheConfig<FastifyRequest, FastifyReply>, 'cache'> {
  /** The `CacheStack` (or a namespace of one); also decorated as `fastify.cache`. */
  cache: CacheStack
  /** Mounts `statsRoute` at `stats.path`. */
  stats?: StatsRouteOptions
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The stack given to the cachestack plugin. */
    cache: CacheStack
  }
  interface FastifyContextConfig {
    /** Response caching for this route: `true` for the plugin's defaults, or options merged over them. */
    cache?: RouteCacheOptions | boolean
  }
}

type RequestState =
  | { mode: 'refresh'; deliver(run: HandlerRun<unknown>): void }
  | { mode: 'mutation' }
  | { mode: 'leader'; captured(run: HandlerRun<FastifyReply>): void; outcome: Promise<ServeOutcome> }

/** Default path of the stats route. */
export const DEFAULT_STATS_PATH = '/cache/stats'

function requestInfo(request: FastifyRequest) {
  return describeRequest({
    method: request.method,
    target: request.url,
    headers: request.headers,
    // Fastify's own view under its `trustProxy` setting: what `request.protocol` and `request.host` tell the handler.
    origin: `${request.protocol}://${request.host}`,
    raw: request,
  })
}

function writeReply(reply: FastifyReply, response: OutgoingResponse): FastifyReply {
  for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name)
  for (const [name, value] of groupHeaders(response.headers)) reply.header(name, value)
  return reply.code(response.status)
}

function addHeaders(reply: FastifyReply, headers: HeaderList): void {
  for (const [name, value] of headers) reply.header(name, value)
}

/** Captures an `onSend` payload; past the cap (or for an event stream) hands back what to send instead. */
async function capturePayload(
  reply: FastifyReply,
  payload: unknown,
  maxBodySize: number,
): Promise<{ run: HandlerRun<FastifyReply>; payload: unknown }> {
  const headers = headerListFrom(reply.getHeaders() as Record<string, string>)
  const { run, replacement } = await captureAnswer(
    { status: reply.statusCode, headers, body: payload },
    maxBodySize,
    reply,
  )
  if (replacement) return { run, payload: Readable.from(replacement) }
  // A stream read whole is sent as the bytes read: it cannot be read twice.
  return { run, payload: run.kind === 'captured' && isStream(payload) ? run.response.body : payload }
}

function isStream(payload: unknown): boolean {
  return (
    payload !== null &&
    typeof payload === 'object' &&
    typeof (payload as { pipe?: unknown }).pipe === 'function'
  )
}

/**
 * A route handler answering `cache.getStats()` as JSON, 403 unless `authorize(request)` returns true;
 * always `Cache-Control: no-store` and `X-Content-Type-Options: nosniff`.
 */
export function statsRoute(options: StatsRouteConfig<FastifyRequest>): RouteHandlerMethod {
  const respond = statsResponder(options)
  return async (request, reply) => {
    const response = await respond(request)
    return writeReply(reply, response).send(Buffer.from(response.body ?? []))
  }
}

/** Options of `healthRoute`: the stack, the probe (`'readiness'` or `'liveness'`) and its tolerance. */
export type HealthRouteOptions = HealthRouteConfig

/**
 * A Kubernetes-style probe: `'readiness'` answers 200 while every layer answers and the bus hears, 503
 * otherwise; `'liveness'` answers 200 while the process does. JSON body, `Cache-Control: no-store`.
 */
export function healthRoute(options: HealthRouteOptions): RouteHandlerMethod {
  const respond = healthResponder(options)
  return async (_request, reply) => {
    const response = await respond()
    return writeReply(reply, response).send(Buffer.from(response.body ?? []))
  }
}

async function cachePlugin(fastify: FastifyInstance, options: CachePluginOptions): Promise<void> {
  const { stats, ...defaults } = options
  const engines = new WeakMap<object, ResponseCache<FastifyRequest, FastifyReply> | null>()
  const states = new WeakMap<FastifyRequest, RequestState>()
  const build = (config: RouteCacheOptions | boolean | undefined) =>
    config === undefined || config === false
      ? null
      : new ResponseCache<FastifyRequest, FastifyReply>(
          config === true ? defaults : { ...defaults, ...config },
        )
  // Validates the plugin's own defaults now, and every route's options as the route is declared.
  build(true)
  fastify.decorate('cache', options.cache)
  fastify.addHook('onRoute', (route) => void build(route.config?.cache))

  const engineFor = (request: FastifyRequest) => {
    const config = request.routeOptions.config
    let engine = engines.get(config)
    if (engine === undefined) engines.set(config, (engine = build(config.cache)))
    return engine
  }

  fastify.addHook('onRequest', async (request, reply) => {
    const engine = engineFor(request)
    if (!engine) return
    const info = requestInfo(request)
    const role = engine.refreshRole(info)
    if (role.role === 'foreign') return
    if (role.role === 'owner') return void states.set(request, { mode: 'refresh', deliver: role.deliver })
    const decision = engine.decide(info)
    if (decision.action === 'bypass') return addHeaders(reply, engine.passThrough('BYPASS', decision.reason))
    if (decision.action === 'invalidate') {
      states.set(request, { mode: 'mutation' })
      // A hijacked answer (reply.hijack()) never reaches onSend: invalidate once it is out instead.
      reply.raw.once('close', () => {
        if (states.get(request)?.mode !== 'mutation') return
        states.delete(request)
        void engine.afterMutation(info, reply.raw.statusCode, reply)
      })
      return
    }
    let produced = false
    let deliver: (run: HandlerRun<FastifyReply>) => void = () => {}
    let started: () => void = () => {}
    const start = new Promise<void>((resolve) => (started = resolve))
    const outcome = engine.serve(info, {
      produce: () => {
        produced = true
        started()
        return new Promise((resolve) => (deliver = resolve))
      },
      dispatch: (extra) => {
        const headers = withoutConditionalHeaders(request.headers, extra)
        // The client's address, so `trustProxy` trusts the copy's forwarding headers as it did the original's.
        const remoteAddress = request.socket.remoteAddress
        fastify.inject({ method: 'GET', url: request.url, headers, remoteAddress }).catch(() => {})
      },
    })
    await Promise.race([start, outcome])
    if (produced) {
      // This request runs the handler for everyone waiting on the key; onSend hands its answer over.
      deleteConditionalHeaders(request.headers)
      states.set(request, { mode: 'leader', captured: (run) => deliver(run), outcome })
      // Every request waiting on this key waits for onSend; when it never comes (a hijacked reply, a client
      // gone before the answer), the response closing releases them instead of leaving the key wedged.
      reply.raw.once('close', () => {
        const state = states.get(request)
        if (state?.mode !== 'leader') return
        states.delete(request)
        state.captured({ kind: 'streamed', reason: 'unseen' })
      })
      return
    }
    const result = await outcome
    if (result.action === 'send')
      return writeReply(reply, result.response).send(result.response.body ?? undefined)
    if (result.action === 'run') addHeaders(reply, result.headers)
  })

  fastify.addHook('onSend', async (request, reply, payload) => {
    const state = states.get(request)
    const engine = engineFor(request)
    if (!state || !engine) return payload
    states.delete(request)
    const maxBodySize = engine.options.maxBodySize
    if (state.mode === 'mutation') {
      await engine.afterMutation(requestInfo(request), reply.statusCode, reply)
      return payload
    }
    const captured = await capturePayload(reply, payload, maxBodySize)
    if (state.mode === 'refresh') {
      state.deliver(captured.run)
      return captured.payload
    }
    if (captured.run.kind === 'streamed') addHeaders(reply, engine.passThrough('MISS', captured.run.reason))
    state.captured(captured.run)
    const result = await state.outcome
    if (result.action !== 'send') return captured.payload
    writeReply(reply, result.response)
    return result.response.body === null ? '' : Buffer.from(result.response.body)
  })

  if (stats) {
    const { path, ...route } = stats
    fastify.get(path ?? DEFAULT_STATS_PATH, statsRoute({ cache: options.cache, ...route }))
  }
}

/** The cachestack Fastify plugin: `app.register(cachestack, { cache, ...defaults, stats? })`. */
export const cachestack = fp(cachePlugin, { fastify: '5.x', name: '@cachestack/fastify' })
export default cachestack

/** Options of `rateLimit`: the stack, `limit`, `window`, and an optional `key(request)` (default: `request.ip`). */
export type RateLimitOptions = RateLimitRouteOptions<FastifyRequest>

/**
 * An `onRequest` hook answering 429 (with `Retry-After` and the `RateLimit` fields) once a client made
 * `limit` requests in the sliding `window`: `app.addHook('onRequest', rateLimit({...}))`, or a route's
 * `onRequest`. Keyed by `request.ip` by default, which follows Fastify's `trustProxy` (off: the socket's address).
 */
export function rateLimit(options: RateLimitOptions): onRequestAsyncHookHandler {
  const decide = rateLimiter(options, (request: FastifyRequest) => request.ip)
  return async (request, reply) => {
    const decision = await decide(request)
    if (decision.allowed) return addHeaders(reply, decision.headers)
    const response = decision.response!
    return writeReply(reply, response).send(Buffer.from(response.body!))
  }
}

import type { CacheStack } from '@cachestack/core'
import {
  captureServerResponse,
  discardNextAnswer,
  type OutgoingResponse,
  ResponseCache,
  type ServeOutcome,
  writeServerResponse,
} from '@cachestack/core/http'
import {
  type CallHandler,
  type ExecutionContext,
  Inject,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common'
import { Reflector } from '@nestjs/core'
import { from, mergeAll, type Observable, of } from 'rxjs'
import { type HttpExchange, httpExchange } from './http-exchange.ts'
import type { ResolvedModuleOptions } from './module-options.ts'
import type { RouteCacheOptions } from './route-decorators.ts'
import { CACHE_STACK, CACHESTACK_MODULE_OPTIONS, METADATA } from './tokens.ts'

type Engine = ResponseCache<unknown, unknown>
type RouteClass = abstract new (...args: never[]) => unknown
type Handler = (...args: never[]) => unknown

/** Route args metadata key of `@nestjs/common` (`ROUTE_ARGS_METADATA`), read to spot `@Res()` routes. */
const ROUTE_ARGS = '__routeArguments__'
/** `RouteParamtypes.RESPONSE` and `RouteParamtypes.NEXT` of `@nestjs/common`. */
const RESPONSE_PARAMS = new Set(['1', '2'])
const PASSTHROUGH = '__responsePassthrough__'

const served = new WeakSet<object>()

interface Route {
  engine: Engine
  /** The handler writes the response itself (`@Res()` without passthrough): Nest will not reply. */
  selfWritten: boolean
}

/**
 * Caches the responses of HTTP routes in the module's `CacheStack` — status, headers and body exactly,
 * on Express and Fastify alike — with the safety rules of every cachestack adapter. Bind it per handler,
 * per controller (`@UseInterceptors(CacheInterceptor)`) or globally (`APP_INTERCEPTOR`); tune routes with
 * `@CacheTTL`, `@CacheTags`, `@CacheKey`, `@CacheOptions`, leave them out with `@NoCache`. Calls that are
 * not HTTP (GraphQL resolvers, microservice handlers, gateways) pass straight through.
 */
export class CacheInterceptor implements NestInterceptor {
  readonly #cache: CacheStack
  readonly #options: ResolvedModuleOptions
  readonly #reflector: Reflector
  readonly #routes = new WeakMap<Handler, WeakMap<RouteClass, Route | null>>()

  constructor(cache: CacheStack, options: ResolvedModuleOptions, reflector: Reflector) {
    this.#cache = cache
    this.#options = options
    this.#reflector = reflector
  }

  /** Nest's interceptor entry point. */
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle()
    const route = this.#routeFor(context)
    if (!route) return next.handle()
    const http = context.switchToHttp()
    const exchange = httpExchange(http.getRequest(), http.getResponse())
    // Bound twice (globally and on the controller), the inner one would wait on the outer one's miss,
    // which waits on the handler behind the inner one: the first to see a request serves it.
    if (served.has(exchange.raw)) return next.handle()
    served.add(exchange.raw)
    return from(this.#handle(route, exchange, next)).pipe(mergeAll())
  }

  async #handle(route: Route, exchange: HttpExchange, next: CallHandler): Promise<Observable<unknown>> {
    const { engine } = route
    try {
      const role = engine.refreshRole(exchange.info)
      if (role.role === 'foreign') return next.handle()
      if (role.role === 'owner') {
        captureServerResponse(exchange.raw, {
          maxBodySize: engine.options.maxBodySize,
          passThroughHeaders: () => [],
        }).then(role.deliver)
        return next.handle()
      }
      const decision = engine.decide(exchange.info)
      if (decision.action === 'invalidate') return this.#mutate(engine, exchange, next)
      if (decision.action === 'bypass') {
        exchange.addHeaders(engine.passThrough('BYPASS', decision.reason))
        return next.handle()
      }
      return await this.#serve(route, exchange, next)
    } catch (error) {
      // The cache's own failure (a throwing `key` or `session` callback...) never fails the request.
      process.emitWarning(`cachestack: response caching skipped: ${String(error)}`)
      return next.handle()
    }
  }

  async #serve(route: Route, exchange: HttpExchange, next: CallHandler): Promise<Observable<unknown>> {
    const { engine } = route
    let lead: () => void = () => {}
    let outcome!: Promise<ServeOutcome>
    // Settles with the outcome, or earlier with 'leader' when this request is the one to run the handler.
    const first = await new Promise<'leader' | ServeOutcome>((resolve, reject) => {
      lead = () => resolve('leader')
      outcome = engine.serve(exchange.info, {
        produce: () => {
          exchange.stripConditional()
          const run = captureServerResponse(exchange.raw, {
            maxBodySize: engine.options.maxBodySize,
            passThroughHeaders: (reason) => engine.passThrough('MISS', reason),
          })
          lead()
          return run
        },
        dispatch: (headers) => exchange.dispatch(headers),
      })
      outcome.then(resolve, reject)
    })
    if (first === 'leader') {
      // This request runs the handler for everyone waiting on the key: Nest writes its answer into the
      // capture, and the cached form (with X-Cache, ETag...) goes out once the store decided.
      outcome.then(
        (result) => {
          if (result.action === 'send') writeRaw(exchange, result.response)
        },
        () => {},
      )
      return next.handle()
    }
    if (first.action === 'run') {
      exchange.addHeaders(first.headers)
      return next.handle()
    }
    if (first.action === 'done') return of(undefined)
    if (route.selfWritten) {
      writeRaw(exchange, first.response)
      return of(undefined)
    }
    // Nest replies to whatever the interceptor emits; that reply is swallowed and the stored answer
    // written in its place, headers set before the handler (CORS, `@Header()`) kept.
    replaceNextAnswer(exchange, first.response)
    return of(undefined)
  }

  // The answer is held until `invalidates` ran, so the client that made the change reads it back.
  #mutate(engine: Engine, exchange: HttpExchange, next: CallHandler): Observable<unknown> {
    const settled = (status: number) => engine.afterMutation(exchange.info, status, exchange.response)
    captureServerResponse(exchange.raw, {
      maxBodySize: engine.options.maxBodySize,
      passThroughHeaders: () => [],
      beforePassThrough: settled,
    }).then(async (run) => {
      if (run.kind !== 'captured') return
      await settled(run.response.status)
      writeRaw(exchange, run.response)
    })
    return next.handle()
  }

  #routeFor(context: ExecutionContext): Route | null {
    const handler = context.getHandler() as Handler
    const controller = context.getClass() as RouteClass
    let byClass = this.#routes.get(handler)
    if (!byClass) this.#routes.set(handler, (byClass = new WeakMap()))
    let route = byClass.get(controller)
    if (route === undefined) byClass.set(controller, (route = this.#buildRoute(handler, controller)))
    return route
  }

  #buildRoute(handler: Handler, controller: RouteClass): Route | null {
    const targets = [handler, controller]
    if (this.#reflector.getAllAndOverride<boolean>(METADATA.noCache, targets)) return null
    const classOptions = this.#reflector.get<RouteCacheOptions | undefined>(METADATA.options, controller)
    const handlerOptions = this.#reflector.get<RouteCacheOptions | undefined>(METADATA.options, handler)
    const options: RouteCacheOptions & Record<string, unknown> = {
      ...this.#options.http,
      ...classOptions,
      ...handlerOptions,
    }
    const ttl = this.#reflector.getAllAndOverride(METADATA.ttl, targets)
    const tags = this.#reflector.getAllAndOverride(METADATA.tags, targets)
    const key = this.#reflector.getAllAndOverride<string | ((req: unknown) => string)>(METADATA.key, targets)
    if (ttl !== undefined) options.ttl = ttl
    if (tags !== undefined) options.tags = tags
    if (key !== undefined) options.key = typeof key === 'function' ? key : () => key
    const engine = new ResponseCache<unknown, unknown>({ cache: this.#cache, ...options })
    return { engine, selfWritten: writesItself(handler, controller) }
  }
}

function writesItself(handler: Handler, controller: RouteClass): boolean {
  const name = handler.name
  const args = (Reflect.getMetadata(ROUTE_ARGS, controller, name) ?? {}) as Record<string, unknown>
  const usesResponse = Object.keys(args).some((key) => RESPONSE_PARAMS.has(key.split(':')[0] ?? ''))
  return usesResponse && Reflect.getMetadata(PASSTHROUGH, controller, name) !== true
}

function writeRaw(exchange: HttpExchange, response: OutgoingResponse): void {
  const raw = exchange.raw
  if (raw.headersSent || raw.writableEnded) return
  writeServerResponse(raw, response)
}

/** Swallows the answer Nest is about to write and writes `response` instead. */
function replaceNextAnswer(exchange: HttpExchange, response: OutgoingResponse): void {
  const raw = exchange.raw
  const before = raw.getHeaders()
  discardNextAnswer(raw, () => {
    // Back to the headers set before the handler (the reply's own are never applied), then the stored ones.
    for (const name of raw.getHeaderNames()) if (!(name in before)) raw.removeHeader(name)
    for (const [name, value] of Object.entries(before)) {
      if (value !== undefined && raw.getHeader(name) !== value) raw.setHeader(name, value)
    }
    writeRaw(exchange, response)
  })
}

Injectable()(CacheInterceptor)
Inject(CACHE_STACK)(CacheInterceptor, undefined, 0)
Inject(CACHESTACK_MODULE_OPTIONS)(CacheInterceptor, undefined, 1)
Inject(Reflector)(CacheInterceptor, undefined, 2)

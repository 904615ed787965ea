import { ValidationError } from '../errors.ts'
import type { Duration } from '../internal/units.ts'
import { parseDuration } from '../internal/units.ts'
import { type Clock, systemClock } from '../layer.ts'
import { invalidateQuietly, tagList } from '../operation/operation-cache.ts'
import {
  assertCacheStore,
  clockOf,
  type HttpCacheStore,
  type HttpEntryOptions,
  type HttpFactoryContext,
  type NormalizedResponseCacheOptions,
  normalizeResponseCacheOptions,
  type ResponseCacheOptions,
  type TagsOption,
} from './options.ts'
import { decideRequest, type NotStoredReason, type RequestDecision, whyNotStored } from './policy.ts'
import { type HandlerRun, type RefreshRole, refreshRole, runRefresh, withTimeout } from './refresh.ts'
import { type OutgoingResponse, passThroughHeaders, replayCaptured, replayStored } from './reply.ts'
import { encodingVariantKey, type HttpRequestInfo, requestKey } from './request-key.ts'
import {
  ENCODING_VARIANT_MARKER,
  type HeaderList,
  isEncodingVariantMarker,
  isStoredResponse,
  type StoredResponse,
  toStoredResponse,
  variesOnEncoding,
} from './stored-response.ts'

/** Options of a response cache: the stack, the clock, and the per-route options. */
export interface ResponseCacheConfig<Req, Res> extends ResponseCacheOptions<Req, Res> {
  /** The stack (or a namespace of one) responses are stored in. */
  cache: HttpCacheStore
  /** Overrides the clock `Age` and staleness are computed with. @default the stack's own `clock` */
  clock?: Clock
  /** A background refresh that gets no answer within this is abandoned. @default '30s' */
  refreshTimeout?: Duration
}

/** What the adapter must do with a request. */
export type ServeOutcome =
  /** Write this answer (a hit, or the miss this request produced). */
  | { readonly action: 'send'; readonly response: OutgoingResponse }
  /** The handler already streamed its answer to the client. */
  | { readonly action: 'done' }
  /** Run the handler yourself, uncached, adding these headers. */
  | { readonly action: 'run'; readonly headers: HeaderList }

/** How the adapter runs the handler for this request, and how it re-dispatches a copy of it. */
export interface ServeHandlers<Res> {
  /** Runs the handler and captures its answer (streaming it through when it cannot be stored). */
  produce(): Promise<HandlerRun<Res>>
  /** Re-sends a copy of the request through the application with extra headers (background refresh). */
  dispatch?: ((headers: Record<string, string>) => void) | undefined
  /**
   * Runs the handler once more for a background refresh, after this request's stale answer has left
   * (Hono: the rest of the middleware chain of the answered request). Preferred over `dispatch`.
   */
  refresh?: (() => Promise<HandlerRun<Res>>) | undefined
}

/** Fresh period used when the route gives none; the stored response must know its own freshness. */
export const DEFAULT_RESPONSE_TTL = '30s'
/** Default for `refreshTimeout`. */
export const DEFAULT_REFRESH_TIMEOUT = '30s'

const UNCACHEABLE = Object.freeze({ kind: 'cachestack:http-uncacheable' })
const CONFIG_ONLY = ['cache', 'clock', 'refreshTimeout']

interface MissState<Res> {
  run?: HandlerRun<Res>
  stored?: StoredResponse
  reason?: NotStoredReason
}

/**
 * Framework-neutral response caching: adapters describe a request, say how to run the handler, and write
 * what comes back. Built on `getOrSet`, so identical concurrent misses run the handler once.
 */
export class ResponseCache<Req, Res> {
  readonly options: NormalizedResponseCacheOptions<Req, Res>
  readonly #cache: HttpCacheStore
  readonly #clock: Clock
  readonly #ttl: number
  readonly #refreshTimeout: number

  constructor(config: ResponseCacheConfig<Req, Res>) {
    if (!config || typeof config !== 'object')
      throw new ValidationError('options must be an object', 'options')
    assertCacheStore(config.cache)
    this.#cache = config.cache
    this.options = normalizeResponseCacheOptions(config as never, CONFIG_ONLY)
    this.#ttl = this.options.ttl ?? parseDuration(DEFAULT_RESPONSE_TTL, 'ttl')
    this.#clock = config.clock ?? clockOf(config.cache, systemClock)
    this.#refreshTimeout = parseDuration(config.refreshTimeout ?? DEFAULT_REFRESH_TIMEOUT, 'refreshTimeout')
  }

  /** The stack this cache stores in. */
  get store(): HttpCacheStore {
    return this.#cache
  }

  /** Is this request a background refresh (ours, or another cache's)? Check before `decide`. */
  refreshRole(request: HttpRequestInfo<Req>): RefreshRole {
    return refreshRole(this, request.header('x-cachestack-refresh'), request.origin)
  }

  /** Decides from the request alone: cache it, run it and invalidate after, or bypass. */
  decide(request: HttpRequestInfo<Req>): RequestDecision {
    return decideRequest(request, this.options as NormalizedResponseCacheOptions<Req, unknown>)
  }

  /** Headers for an answer the handler writes itself. */
  passThrough(state: 'MISS' | 'BYPASS', detail?: string): HeaderList {
    return passThroughHeaders(state, this.options.cacheStatusHeader, detail)
  }

  /** Serves a request `decide` said to cache: a hit, a replay of a concurrent miss, or this request's miss. */
  async serve(request: HttpRequestInfo<Req>, handlers: ServeHandlers<Res>): Promise<ServeOutcome> {
    const baseKey = await this.#key(request)
    if (baseKey === undefined) return { action: 'run', headers: this.passThrough('BYPASS', 'no-session') }
    if (request.method === 'HEAD') return this.#serveHead(request, baseKey)
    const outcome = await this.#lookup(request, baseKey, false, handlers)
    if (outcome !== 'variant') return outcome
    const variantKey = encodingVariantKey(baseKey, request.header('accept-encoding'))
    const variant = await this.#lookup(request, variantKey, true, handlers)
    return variant === 'variant' ? { action: 'run', headers: this.passThrough('MISS') } : variant
  }

  /**
   * Runs `invalidates` after a 2xx answer to a mutation; the adapter awaits it before the answer leaves,
   * so the client reads its own write. A failed invalidation is reported as a warning, never turned into
   * an error answer, since the mutation itself succeeded.
   */
  async afterMutation(request: HttpRequestInfo<Req>, status: number, res: Res): Promise<void> {
    if (status < 200 || status >= 300 || this.options.invalidates === undefined) return
    await invalidateQuietly(this.#cache, resolveTags(this.options.invalidates, request.raw, res))
  }

  async #key(request: HttpRequestInfo<Req>): Promise<string | undefined> {
    let session: string | undefined
    if (this.options.scope === 'private') {
      const resolved = await this.options.session?.(request.raw)
      if (typeof resolved !== 'string' || resolved === '') return undefined
      session = resolved
    }
    const custom = this.options.key ? await this.options.key(request.raw) : undefined
    return requestKey({
      host: request.host,
      origin: request.origin,
      path: request.path,
      query: request.query,
      ignoreQuery: this.options.ignoreQuery,
      vary: this.options.vary,
      header: (name) => request.header(name),
      custom,
      session,
    })
  }

  // HEAD reads GET's entry but never fills it: frameworks answer HEAD without a body.
  async #serveHead(request: HttpRequestInfo<Req>, baseKey: string): Promise<ServeOutcome> {
    let value = await this.#read(baseKey)
    if (isEncodingVariantMarker(value)) {
      value = await this.#read(encodingVariantKey(baseKey, request.header('accept-encoding')))
    }
    if (isStoredResponse(value)) return { action: 'send', response: this.#replay(value, request) }
    return { action: 'run', headers: this.passThrough('MISS') }
  }

  async #read(key: string): Promise<unknown> {
    const store = this.#cache as HttpCacheStore & { get?: (key: string) => Promise<unknown> }
    return store.get ? store.get(key).catch(() => undefined) : undefined
  }

  async #lookup(
    request: HttpRequestInfo<Req>,
    key: string,
    isVariant: boolean,
    handlers: ServeHandlers<Res>,
  ): Promise<ServeOutcome | 'variant'> {
    const state: MissState<Res> = {}
    let value: unknown
    try {
      value = await this.#cache.getOrSet(key, this.#factory(request, key, isVariant, handlers, state), {
        ttl: this.#ttl,
        staleWhileRevalidate: this.options.staleWhileRevalidate,
        grace: this.options.grace,
      })
    } catch {
      // The handler failed (FactoryError) or a layer did: fail open, never fail the request on the cache's behalf.
      return this.#ownAnswer(state) ?? { action: 'run', headers: this.passThrough('MISS') }
    }
    if (state.stored && (isEncodingVariantMarker(value) || sameResponse(value, state.stored))) {
      return { action: 'send', response: this.#replay(state.stored, request, 'MISS') }
    }
    if (isStoredResponse(value)) return { action: 'send', response: this.#replay(value, request) }
    if (isEncodingVariantMarker(value)) return isVariant ? { action: 'run', headers: [] } : 'variant'
    return this.#ownAnswer(state) ?? { action: 'run', headers: this.passThrough('MISS') }
  }

  /** The answer this request's own handler run produced, when it ran and was not stored. */
  #ownAnswer(state: MissState<Res>): ServeOutcome | undefined {
    if (!state.run) return undefined
    if (state.run.kind === 'streamed') return { action: 'done' }
    const response = replayCaptured(state.run.response, 'MISS', this.options.cacheStatusHeader, state.reason)
    return { action: 'send', response }
  }

  #replay(stored: StoredResponse, request: HttpRequestInfo<Req>, state?: 'MISS'): OutgoingResponse {
    const now = this.#clock.now()
    return replayStored(stored, request, {
      state: state ?? (now >= stored.freshUntil ? 'STALE' : 'HIT'),
      now,
      cacheStatusHeader: this.options.cacheStatusHeader,
      detail: state === 'MISS' ? 'stored' : undefined,
    })
  }

  #factory(
    request: HttpRequestInfo<Req>,
    key: string,
    isVariant: boolean,
    handlers: ServeHandlers<Res>,
    state: MissState<Res>,
  ) {
    return async (ctx: HttpFactoryContext): Promise<unknown> => {
      // A background refresh belongs to a request already answered with the stale copy: re-dispatch a
      // copy of it instead of touching the answered one.
      const background = ctx.isBackground === true
      const run =
        background && handlers.refresh
          ? await withTimeout(handlers.refresh(), this.#refreshTimeout)
          : background && handlers.dispatch
            ? await runRefresh<Res>(this, handlers.dispatch, this.#refreshTimeout, undefined, request.origin)
            : await handlers.produce()
      state.run = run
      if (run.kind === 'streamed') {
        state.reason = run.reason
        return ctx.skip(UNCACHEABLE)
      }
      // Within grace, a 5xx is a failure to hide behind the stale response, not an answer to store.
      if (run.response.status >= 500 && ctx.gracedEntry !== undefined) {
        return ctx.fail(new Error(`handler answered ${run.response.status}`))
      }
      const reason = whyNotStored(
        run.response,
        this.options as NormalizedResponseCacheOptions<unknown, unknown>,
      )
      if (reason) {
        state.reason = reason
        return ctx.skip(UNCACHEABLE)
      }
      const now = this.#clock.now()
      const stored = toStoredResponse(run.response, now, now + this.#ttl)
      state.stored = stored
      const tags = this.options.tags ? resolveTags(this.options.tags, request.raw, run.res) : []
      if (tags.length) ctx.setOptions({ tags })
      if (!isVariant && variesOnEncoding(stored.headers)) {
        const entry: HttpEntryOptions = {
          ttl: this.#ttl,
          staleWhileRevalidate: this.options.staleWhileRevalidate,
          grace: this.options.grace,
          tags,
        }
        await this.#cache.set(encodingVariantKey(key, request.header('accept-encoding')), stored, entry)
        return ENCODING_VARIANT_MARKER
      }
      return stored
    }
  }
}

function resolveTags<Req, Res>(option: TagsOption<Req, Res>, req: Req, res: Res): string[] {
  return tagList(typeof option === 'function' ? option(req, res) : option)
}

function sameResponse(value: unknown, stored: StoredResponse): boolean {
  return isStoredResponse(value) && value.etag === stored.etag && value.createdAt === stored.createdAt
}

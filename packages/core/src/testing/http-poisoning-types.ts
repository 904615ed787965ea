// The types an adapter implements to run the web cache poisoning suite (http-poisoning.ts).

import type { CacheStack } from '../cache-stack.ts'
import type { StartedApp } from './http-clients.ts'
import type { RawRequest } from './http-raw-client.ts'

/** What the framework told the handler about a request: everything a real handler builds its answer from. */
export interface FrameworkView {
  /** The method the framework routed by. */
  readonly method: string
  /** Scheme and host as the framework computes them (Express `req.protocol`/`req.host` under `trust proxy`, Fastify `request.protocol`/`request.host` under `trustProxy`, Hono the origin of `c.req.url`). */
  readonly origin: string
  /** The URL as the framework hands it over (Express `req.originalUrl`, Fastify `request.url`, Hono `c.req.url`). */
  readonly url: string
  /** The path the framework reports (Express `req.path`, Hono `c.req.path`, the path of Fastify's `request.url`). */
  readonly path: string
  /** The query as the framework parsed it (`req.query`, `request.query`, `c.req.queries()`). */
  readonly query: unknown
  /** The body as the framework's usual JSON body parsing read it, `null` when it read none. */
  readonly body: unknown
  /** A request header by lower-case name. */
  header(name: string): string | undefined
}

/** The app the poisoning suite has a harness start. */
export interface PoisonableApp {
  /** The stack to give the adapter as its `cache` option. */
  readonly cache: CacheStack
  /** Response caching options of the page route, or `null` to mount the handler without the cache. */
  readonly options: Readonly<Record<string, unknown>> | null
  /** Renders the page; the harness answers `200` with it as `text/html; charset=utf-8`. */
  render(view: FrameworkView): string
}

/** What an adapter supplies to run `describeHttpPoisoningContract`. */
export interface PoisoningHarness {
  /**
   * Starts the framework on 127.0.0.1 (port 0) set up as an app behind a proxy on the same host is: its
   * trust-proxy setting trusting loopback addresses only (Express `trust proxy: 'loopback'`, Fastify
   * `trustProxy: '127.0.0.1'`; Hono has none), its usual JSON body parsing, its default routing; `GET /page`
   * (and HEAD) answered by `app.render` and cached with `app.options` unless they are null.
   */
  startPoisonable(app: PoisonableApp): Promise<StartedApp>
}

/** One poisoning attempt: the attacker's request, then the ordinary request it tries to poison. */
export interface PoisoningVector {
  readonly name: string
  readonly attack: RawRequest
  /** Path and query of the ordinary request. @default '/page' */
  readonly ordinary?: string
  /** Headers of the ordinary request. */
  readonly ordinaryHeaders?: Readonly<Record<string, string>>
  /** The attack must bypass the cache (neither served from it nor stored), with this `Cache-Status` detail. */
  readonly bypass?: string
  /**
   * The framework may hand both requests to the handler identically (Hono resolves dot segments), so
   * sharing an entry is right; otherwise the suite first checks that the attack does change the answer.
   */
  readonly mayParseAlike?: boolean
}

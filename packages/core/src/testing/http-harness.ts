import type { CacheStack } from '../cache-stack.ts'
import { type ClientKind, type ContractClient, openClient, type StartedApp } from './http-clients.ts'
import type { PoisoningHarness } from './http-poisoning.ts'

export type { StartedApp } from './http-clients.ts'

/** A request as the contract's handler sees it, whatever the framework. */
export interface ContractRequest {
  /** Upper-case method (`GET` for a HEAD the framework routes to its GET handler is fine). */
  readonly method: string
  /** Path and query string, as the client sent them. */
  readonly url: string
  /** A request header by lower-case name. */
  header(name: string): string | undefined
}

/** What the contract's handler answers; the harness writes it with the framework's own calls. */
export interface ContractAnswer {
  readonly status: number
  /** Response headers to set before the body (a `content-type` is always among them). */
  readonly headers: readonly (readonly [string, string])[]
  readonly body: string
  /**
   * How to write the body: one of the harness's `oneCall` or `manyWrites` names. `manyWrites` ways write
   * `chunks` (the body cut in pieces) one after the other.
   */
  readonly write: string
  /** The body in the pieces a `manyWrites` way writes, in order; they join to `body`. */
  readonly chunks: readonly string[]
}

/** The app a harness builds: cached routes, a mutation route and a stats route, all answered by the contract. */
export interface ContractApp {
  /** The stack to give the adapter as its `cache` option (a memory stack on a manual clock). */
  readonly cache: CacheStack
  /** Response caching options of `GET`/`HEAD /c/*`, to give the adapter as they are (beside `cache`). */
  readonly options: Readonly<Record<string, unknown>>
  /** Response caching options of `POST /c/*` (they hold `invalidates`). */
  readonly mutationOptions: Readonly<Record<string, unknown>>
  /**
   * Answers `GET`, `HEAD` and `POST` on `/c/*`. The harness awaits it inside its route handler and lets a
   * rejection reach the framework's own error handling (Express's error page, Fastify's and Hono's 500).
   */
  handle(request: ContractRequest): Promise<ContractAnswer>
  /** The `authorize` of the stats route mounted at `GET /stats` (takes the framework's request). */
  readonly authorize: (req: unknown) => boolean
}

/**
 * What an adapter supplies to run `describeHttpAdapterContract`: how to start its framework with the
 * contract's routes, how its handlers write a body, and how to read a header off its request object; and,
 * for the web cache poisoning part of the contract, how to start it as an app behind a proxy.
 */
export interface HttpAdapterHarness extends PoisoningHarness {
  /**
   * Ways a handler writes a whole body in one call, most usual first (Express: `res.send`, `res.end`
   * without a length, `res.end` after a `Content-Length`...).
   */
  readonly oneCall: readonly string[]
  /** Ways a handler writes a body in several pieces (`res.write`s then `res.end()`, a piped stream...). */
  readonly manyWrites: readonly string[]
  /**
   * Ways a handler answers around the adapter, which then never sees the answer (Fastify's
   * `reply.hijack()` then `reply.raw.end(...)`). The contract checks that these reach the client whole, are
   * never stored and never hold up a request waiting on the same key.
   */
  readonly aroundAdapter?: readonly string[]
  /** Reads a request header (lower-case name) from the framework's request object given to callbacks. */
  header(req: unknown, name: string): string | undefined
  /**
   * Starts the framework listening on 127.0.0.1 (port 0) with: `GET`/`HEAD /c/*` cached with
   * `app.options`, `POST /c/*` with `app.mutationOptions`, both answered by `app.handle`, and
   * `GET /stats` served by the adapter's stats route with `app.authorize`.
   */
  start(app: ContractApp): Promise<StartedApp>
}

/** A started app with a client on it and a count of the TCP connections the server accepted. */
export interface OpenApp {
  readonly client: ContractClient
  /** Connections the server accepted since it started. */
  connections(): number
  close(): Promise<void>
}

/** Starts `app` through the harness and opens a client of `kind` on it. */
export async function openApp(
  harness: HttpAdapterHarness,
  app: ContractApp,
  kind: ClientKind,
): Promise<OpenApp> {
  const started = await harness.start(app)
  let connections = 0
  started.server.on('connection', () => connections++)
  const client = openClient(kind, started.server)
  return {
    client,
    connections: () => connections,
    close: async () => {
      client.close()
      started.server.closeAllConnections()
      await started.close()
    },
  }
}

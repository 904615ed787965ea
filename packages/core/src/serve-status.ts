import { channel } from 'node:diagnostics_channel'

/**
 * The diagnostics channel adapters publish how a request or call was served on (see `@cachestack/otel`,
 * which sets `cache.status` on the active span). A plain channel, not a tracing one: the state is one fact
 * about work another span (the server's, the RPC call's) already covers.
 */
export const SERVE_CHANNEL = 'cachestack:serve'

/** How a request or call was served. */
export type ServeStatus = 'hit' | 'miss' | 'stale' | 'bypass'

/** What `cachestack:serve` subscribers receive. */
export interface ServeMessage {
  status: ServeStatus
  /** Who served it: `'http'` (Express, Fastify, Hono, NestJS), `'trpc'`, `'graphql'`... */
  protocol: string
  /** Why, when there is a reason (`Cache-Status` detail: `no-session`, `set-cookie`, `stored`...). */
  detail?: string | undefined
}

const serve = channel(SERVE_CHANNEL)

/**
 * Tells subscribers how the current request or call was served. Call it synchronously in that request's
 * async context (subscribers read the active span there); costs one boolean read when nobody listens.
 */
export function publishServeStatus(status: ServeStatus, protocol: string, detail?: string): void {
  if (!serve.hasSubscribers) return
  const message: ServeMessage = { status, protocol, detail }
  serve.publish(message)
}

/**
 * What instances tell each other. Only keys, tags and prefixes travel, never values. `v` is the wire
 * version: a receiver ignores versions it does not know, so old and new releases can share a bus.
 */
export type BusMessage =
  | { v: 1; type: 'delete'; keys: string[] }
  | { v: 1; type: 'set'; keys: string[] }
  | { v: 1; type: 'expire'; keys: string[]; at: number }
  | { v: 1; type: 'clear'; namespace: string }
  | { v: 1; type: 'tags'; names: string[]; mode: 'hard' | 'soft'; at: number; all?: boolean }
  | { v: 1; type: 'prefix'; prefix: string }
  | { v: 1; type: 'pattern'; namespace: string; pattern: string }
  | { v: 1; type: 'generation'; value: number }

/** The wire version this release writes. */
export const BUS_VERSION = 1

/** A transport that carries `BusMessage`s between instances (see `RedisBus`). */
export interface CacheBus {
  /**
   * Starts delivering messages from other instances to `handler`; resolves once subscribed. `onError`
   * receives the bus's connection errors (the stack emits them as `error` events).
   */
  subscribe(
    handler: (message: BusMessage) => void,
    onReconnect: () => void,
    onError?: (error: unknown) => void,
  ): Promise<void>
  /** Resolves when messages from other instances arrive; rejects with a typed error when they cannot. */
  ready?(): Promise<void>
  /** Sends a message to every other instance; failures are queued and retried by the bus. */
  publish(message: BusMessage): void
  /** Stops and releases the bus. */
  dispose(): Promise<void>
  /** True while messages from other instances arrive (read by `getStats()` and health checks). Optional. */
  readonly listening?: boolean
  /**
   * Optional: lets `message` travel inside a command a shared layer sends on `client` anyway, when that
   * client reaches the server this bus publishes on (a tag invalidation is then one round trip, not two).
   * `undefined` when it cannot: another server, or messages waiting in the bus's own retry queue.
   */
  carry?(client: unknown, message: BusMessage): BusCarriage | undefined
}

/** A message handed to a shared layer's command: where and what to publish, and how it went. */
export interface BusCarriage {
  readonly channel: string
  readonly payload: string
  /** Called once: `true` when the command ran (the message was published), `false` when it failed. */
  done(published: boolean): void
}

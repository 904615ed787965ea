import { tracingChannel } from 'node:diagnostics_channel'

/** The tracing channel every public operation is published on (see `@cachestack/otel`). */
export const OPERATION_CHANNEL = 'cachestack:operation'

/** Names of the operations published on `cachestack:operation`. */
export type OperationName =
  | 'get'
  | 'mget'
  | 'has'
  | 'ttl'
  | 'inspect'
  | 'set'
  | 'mset'
  | 'delete'
  | 'expire'
  | 'invalidate'
  | 'clear'
  | 'bumpGeneration'
  | 'refresh'
  | 'warm'
  | 'exportState'
  | 'importState'
  | 'persistToFile'
  | 'restoreFromFile'
  | 'prune'
  | 'lock'
  | 'unlock'
  | 'rateLimit'
  | 'keyspace'

/**
 * What subscribers of `cachestack:operation` receive for each operation: the same object on `start`,
 * `end`, `asyncStart`, `asyncEnd` and `error`. Node's `tracePromise` adds `result` (the resolved value)
 * and `error` (the rejection). Fields a read learns while it runs (`hit`, `layer`...) are set before
 * `asyncEnd`.
 */
export interface OperationContext {
  operation: OperationName
  /** The key as the caller sees it: namespace path + key (`'users:42'`), never the generation prefix. */
  key?: string | undefined
  /** Same form as `key`, for `mget`, `mset` and `deleteMany`. */
  keys?: readonly string[] | undefined
  /** `keyspace`: the keyspace operation (`increment`, `pushLeft`, `members`...). */
  command?: string | undefined
  /** The namespace path of the view (`''` for the root). */
  namespace: string
  /** The root `CacheStack` (shared by its namespace views): tells stacks apart on the one channel. */
  cache?: object | undefined
  /** Tags written (`set`) or invalidated (`invalidate`), as the caller gave them. */
  tags?: readonly string[] | undefined
  /** `invalidate` by prefix or pattern: what was given, without the namespace. */
  prefix?: string | undefined
  pattern?: string | undefined
  /** `invalidate`: `'hard'` (invalidateBy*) or `'soft'` (expireBy*). */
  mode?: 'hard' | 'soft' | undefined
  /** A read answered from a layer (fresh or stale); `false` on a miss. */
  hit?: boolean | undefined
  /** The value served was stale (stale-while-revalidate, grace, backoff, timeout fallback). */
  stale?: boolean | undefined
  /** Name of the layer that answered a hit. */
  layer?: string | undefined
  /** `mget`: how many of `keys` were answered from the layers without a factory. */
  hits?: number | undefined
  /** The read waited on a factory run another caller in this process had started. */
  coalesced?: boolean | undefined
  /** `refresh`: a background refresh nobody waits on (stale-while-revalidate, refresh-ahead). */
  background?: boolean | undefined
  /** `refresh`: the message of the read that started it. */
  trigger?: OperationContext | undefined
  /**
   * A fresh L1 hit on the synchronous path: it was answered before `start` was published, with `hit`,
   * `stale` and `layer` set already; `end` follows at once, and there is no `asyncStart`/`asyncEnd`.
   * Nothing runs between `start` and `end` that a subscriber could time.
   */
  synchronous?: true | undefined
  /** What the operation answered: set by Node's `tracePromise` before `asyncEnd`, and before `end` for a synchronous in-memory hit. */
  result?: unknown
  /** Set by Node's `tracePromise` when the operation rejects. */
  error?: unknown
}

/** The channel; `hasSubscribers` is the only thing the hot path reads. */
export const operationChannel = tracingChannel<unknown, OperationContext>(OPERATION_CHANNEL)

/**
 * Runs `run` as a traced operation when somebody subscribes. `run` is called inside `start`'s bound
 * stores, so an async context a subscriber binds there (an active span) is the one the work runs in.
 */
export function traced<R>(context: OperationContext, run: () => Promise<R>): Promise<R> {
  return operationChannel.tracePromise(run, context)
}

/** Span, attribute and metric names of `@cachestack/otel`, in one place so the README and tests agree. */

/** Attribute names on spans (and, where noted, on metrics). */
export const ATTR = {
  /** The operation: `get`, `set`, `delete`... (also a metric attribute). */
  operation: 'cache.operation',
  /** `instrumentCache`'s `name` option (also a metric attribute). */
  name: 'cache.name',
  /** The namespace path of the view, when not the root. */
  namespace: 'cache.namespace',
  /** SHA-256 of the key (16 hex digits): correlates spans of one key without recording it. */
  keyHash: 'cache.key.hash',
  /** The key itself, only with `includeKeys: true`. */
  key: 'cache.key',
  /** Number of keys of a multi-key operation (`mget`, `mset`, `deleteMany`). */
  keysCount: 'cache.keys.count',
  /** The keys themselves, only with `includeKeys: true`. */
  keys: 'cache.keys',
  /** Number of tags written or invalidated. */
  tagsCount: 'cache.tags.count',
  /** A layer answered (fresh or stale). */
  hit: 'cache.hit',
  /** The value served was stale. */
  stale: 'cache.stale',
  /** The layer that answered (also a metric attribute). */
  layer: 'cache.layer',
  /** `mget`: keys answered from the layers without a factory. */
  hits: 'cache.hits',
  /** This read waited on a factory run another caller had started. */
  coalesced: 'cache.coalesced',
  /** A background refresh (stale-while-revalidate, refresh-ahead). */
  background: 'cache.background',
  /** `invalidate`: `hard` or `soft`. */
  invalidateMode: 'cache.invalidate.mode',
  /** `invalidate` by prefix / pattern, only with `includeKeys: true`. */
  prefix: 'cache.prefix',
  pattern: 'cache.pattern',
  /** Metric attribute: `hit`, `miss` or `stale` for reads. */
  result: 'cache.result',
  /** Metric attribute: the error's class name when the operation failed. */
  errorType: 'error.type',
  /** On the active server/call span: how an HTTP request or RPC call was served. */
  status: 'cache.status',
  /** The `Cache-Status` detail beside `cache.status` (`no-session`, `set-cookie`...). */
  statusDetail: 'cache.status.detail',
} as const

/** Metric instrument names. */
export const METRIC = {
  operations: 'cache.operations',
  duration: 'cache.operation.duration',
  hitRatio: 'cache.hit_ratio',
} as const

/** The instrumentation scope name tracers and meters are obtained with. */
export const SCOPE = '@cachestack/otel'

/** `cache.` + the operation, with camelCase operations in snake_case (`cache.bump_generation`). */
export function spanName(operation: string): string {
  return `cache.${operation.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`
}

export type { CacheManager, CacheManagerOptions } from './cache-manager.ts'
export { createCacheManager } from './cache-manager.ts'
export type {
  CacheMetrics,
  CacheStackOptions,
  EntryInspection,
  LayerHealth,
  MgetEntry,
  MsetEntry,
  OperationContext,
  OperationName,
} from './cache-stack.ts'

export { CacheStack, OPERATION_CHANNEL } from './cache-stack.ts'
export type { HeldLock, Lock, LockOptions, WithLockOptions } from './coordination/lock.ts'
export { DEFAULT_LOCK_RETRY_DELAY } from './coordination/lock.ts'
export type { RateLimitOptions, RateLimitResult } from './coordination/rate-limit.ts'
export type { RedisBusOptions, RedisBusStats } from './distributed/redis-bus.ts'
export { DEFAULT_BUS_CHANNEL, RedisBus } from './distributed/redis-bus.ts'
export type { RedisSingleFlightOptions, SingleFlightStats } from './distributed/redis-single-flight.ts'
export { RedisSingleFlight } from './distributed/redis-single-flight.ts'
export * from './errors.ts'
export type { CompressionName } from './internal/compression.ts'
export type { OptionNames } from './internal/known-options.ts'
export { assertKnownOptions, optionNames } from './internal/known-options.ts'
export type { EntrySerializer, SerializerOption } from './internal/serialization.ts'
export { CorruptedEntryError } from './internal/serialization.ts'
export type { Duration, DurationUnit, Size, SizeUnit } from './internal/units.ts'
export { parseDuration, parseSize } from './internal/units.ts'
export type { ValueKind, ValueSupport } from './internal/value-check.ts'
export type { KeyspaceBackend } from './keyspace/backend.ts'
export type { ItemCodec } from './keyspace/collection-keyspaces.ts'
export { ListKeyspace, SetKeyspace } from './keyspace/collection-keyspaces.ts'
export type { KeyspaceKind, KeyspaceKinds, KeyspaceOf, KeyspaceOptions } from './keyspace/create.ts'
export type { Expiry } from './keyspace/expiry.ts'
export {
  expireDailyAt,
  expireIn,
  expireInHours,
  expireInMinutes,
  expireInSeconds,
  keepTtl,
  neverExpire,
} from './keyspace/expiry.ts'
export type { WriteOptions } from './keyspace/keyspace-base.ts'
export { Keyspace, ValueKeyspace } from './keyspace/keyspace-base.ts'
export type { KeyOf, KeyPart, PatternFields } from './keyspace/pattern.ts'
export { FloatKeyspace, IntKeyspace, StringKeyspace, StructKeyspace } from './keyspace/scalar-keyspaces.ts'
export type { CacheEntry, CacheLayer, Clock, LayerContext, LayerUsage, LayerWrite } from './layer.ts'
export { FOREVER, systemClock } from './layer.ts'
export type { DiskLayerOptions } from './layers/disk-layer.ts'
export { DiskLayer } from './layers/disk-layer.ts'
export type { MemcachedLayerOptions } from './layers/memcached-layer.ts'
export { MemcachedLayer } from './layers/memcached-layer.ts'
export type { MemoryEviction, MemoryLayerOptions, MemoryValueMode } from './layers/memory-layer.ts'
export { MemoryLayer } from './layers/memory-layer.ts'
export type { PostgresLayerOptions } from './layers/postgres-layer.ts'
export { PostgresLayer, PostgresTimeoutError } from './layers/postgres-layer.ts'
export type { BudgetUsage, RedisBudget } from './layers/redis-budget.ts'
export type { RedisLayerOptions } from './layers/redis-layer.ts'
export { RedisLayer } from './layers/redis-layer.ts'
export type {
  OperationBypassReason,
  OperationCacheOptions,
  OperationResult,
  OperationState,
  OperationStore,
  OperationTags,
} from './operation/operation-cache.ts'
export { invalidateQuietly, OperationCache, resolveTags, tagList } from './operation/operation-cache.ts'
export {
  canonicalArgs,
  hashSession,
  MAX_OPERATION_KEY_LENGTH,
  operationKey,
} from './operation/operation-key.ts'
export type { ServeMessage, ServeStatus } from './serve-status.ts'
export { publishServeStatus, SERVE_CHANNEL } from './serve-status.ts'
export type { BusMessage, CacheBus } from './stack/bus-message.ts'
export { BUS_VERSION } from './stack/bus-message.ts'
export type { CacheEventListener, CacheEventName, CacheEvents } from './stack/events.ts'
export type { Factory, FactoryContext, GracedEntry, Storable } from './stack/factory.ts'
export type { GetOrSetObject, KeyArg, SetObject } from './stack/forms.ts'
export type { CacheStats, LayerStats } from './stack/metrics.ts'
export type {
  CacheStackOptions as StackOptions,
  EntryOptions,
  ReadOptions,
  TtlOption,
} from './stack/options.ts'
export type { PruneResult } from './stack/scan.ts'
export { storedGeneration } from './stack/shared-state.ts'
export type { FlightLease, SharedWork, SingleFlight } from './stack/single-flight.ts'
export type {
  CacheSnapshot,
  RestoreResult,
  SnapshotEntry,
  SnapshotOptions,
  SnapshotProgress,
} from './stack/snapshot.ts'
export type { WarmEntry, WarmOptions, WarmProgress, WarmResult } from './stack/warm.ts'
export type { TestCache } from './test-cache.ts'
export { createTestCache } from './test-cache.ts'

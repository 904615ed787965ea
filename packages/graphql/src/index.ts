export type { CacheResolverOptions } from './cache-resolver.ts'
export { cacheResolver, RESOLVER_KEY_PREFIX } from './cache-resolver.ts'
export type { InvalidateResolverOptions } from './invalidate-resolver.ts'
export { invalidateResolver } from './invalidate-resolver.ts'
export { toPlainData } from './plain-data.ts'
export type { FieldResolver } from './resolver-types.ts'
export type {
  CachedResponse,
  ResponseCacheEntity,
  ResponseCacheExtensions,
  ResponseCacheStore,
  ResponseCacheStoreOptions,
} from './response-cache-store.ts'
export { RESPONSE_KEY_PREFIX, responseCacheStore } from './response-cache-store.ts'
export { entityTag, listTag, typeTags } from './type-tags.ts'

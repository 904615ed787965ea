export { CacheInterceptor } from './cache-interceptor.ts'
export { CacheStackModule, type CacheStackModuleAsyncOptions } from './cache-stack-module.ts'
export { Cacheable, type CacheableOptions } from './cacheable.ts'
export { InjectCache } from './inject-cache.ts'
export { InvalidateTags, type TagsResolver } from './invalidate-tags.ts'
export {
  type CacheStackModuleOptions,
  DEFAULT_STATS_PATH,
  type ExistingStackOptions,
  type NewStackOptions,
  type ResolvedModuleOptions,
  type StaticModuleOptions,
  type StatsRouteOptions,
} from './module-options.ts'
export {
  CacheKey,
  CacheOptions,
  CacheTags,
  CacheTTL,
  type ClassOrMethodDecorator,
  NoCache,
  type RouteCacheOptions,
} from './route-decorators.ts'
export { CACHE_STACK, CACHESTACK_MODULE_OPTIONS } from './tokens.ts'

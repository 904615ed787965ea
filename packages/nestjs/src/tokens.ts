/** Injection token of the `CacheStack` (`@InjectCache()` resolves it). */
export const CACHE_STACK = Symbol.for('cachestack:nestjs:stack')

/** Injection token of the module's resolved options (response caching defaults included). */
export const CACHESTACK_MODULE_OPTIONS = Symbol.for('cachestack:nestjs:options')

/** Metadata keys written by the route decorators and read by `CacheInterceptor`. */
export const METADATA = {
  ttl: 'cachestack:ttl',
  tags: 'cachestack:tags',
  key: 'cachestack:key',
  noCache: 'cachestack:no-cache',
  options: 'cachestack:options',
  /** Marks a class whose methods use `@Cacheable` or `@InvalidateTags`, so the module can find its instances. */
  usesStack: 'cachestack:uses-stack',
} as const

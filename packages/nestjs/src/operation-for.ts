import { type CacheStack, OperationCache, type OperationCacheOptions } from '@cachestack/core'

/**
 * One `OperationCache` per decorated method and stack: built at the first call on a stack (the stack only
 * exists once Nest has built the module), then reused.
 */
export function operationsFor<Args extends readonly unknown[], T>(
  build: (cache: CacheStack) => OperationCacheOptions<Args, undefined, T>,
): (cache: CacheStack) => OperationCache<Args, undefined, T> {
  const byStack = new WeakMap<CacheStack, OperationCache<Args, undefined, T>>()
  return (cache) => {
    let operation = byStack.get(cache)
    if (!operation) byStack.set(cache, (operation = new OperationCache(build(cache))))
    return operation
  }
}

import { ValidationError } from '@cachestack/core'
import { CacheInstrumentation } from './cache-instrumentation.ts'
import { isRegistered, register, unregister } from './channel-binding.ts'
import { type InstrumentCacheOptions, normalizeOptions } from './options.ts'

/** What `instrumentCache` accepts: a root `CacheStack` (structurally, so two copies of core both work). */
export interface InstrumentableCache {
  readonly prefix: string
  getOrSet(...args: never[]): Promise<unknown>
}

/**
 * Spans and metrics for every operation of `cache` (and of its namespace views), fed by core's
 * `cachestack:operation` tracing channel. Returns the function that stops it.
 */
export function instrumentCache(cache: InstrumentableCache, options?: InstrumentCacheOptions): () => void {
  if (typeof cache !== 'object' || cache === null || typeof cache.getOrSet !== 'function')
    throw new ValidationError('instrumentCache needs a CacheStack', 'cache')
  if (cache.prefix !== '') {
    throw new ValidationError(
      `instrumentCache needs the root stack, not the namespace view "${cache.prefix}" (views share its spans)`,
      'cache',
    )
  }
  if (isRegistered(cache)) throw new ValidationError('This stack is already instrumented', 'cache')
  const named = (cache as { name?: unknown }).name
  const normalized = normalizeOptions(options, typeof named === 'string' ? named : undefined)
  register(cache, new CacheInstrumentation(normalized))
  let done = false
  return () => {
    if (done) return
    done = true
    unregister(cache)
  }
}

import { type Duration, FactoryError, parseDuration, ValidationError } from '@cachestack/core'
import { isObservable, lastValueFrom } from 'rxjs'
import { replaceMethod } from './method-wrapper.ts'
import { stackFor } from './stack-registry.ts'

/** Options of `@Cacheable`. */
export interface CacheableOptions {
  /**
   * A prefix (one entry per canonical argument list: `{a,b}` = `{b,a}`, `1` ≠ `'1'`), or a function of the
   * arguments returning the whole key. @default `'ClassName.method'`
   */
  key?: string | ((...args: never[]) => string)
  /** Fresh period. @default the stack's `ttl` */
  ttl?: Duration
  /** Tags stored with each entry: a list, or computed from the arguments. */
  tags?: readonly string[] | ((...args: never[]) => readonly string[])
  /** Window after `ttl` in which the stale value is returned while one background call refreshes it. */
  staleWhileRevalidate?: Duration
  /** Window after `ttl` in which a failing method is hidden behind the stale value. */
  grace?: Duration
}

const KNOWN = new Set(['key', 'ttl', 'tags', 'staleWhileRevalidate', 'grace'])

interface NormalizedCacheable {
  key: string | ((...args: unknown[]) => string) | undefined
  tags: readonly string[] | ((...args: unknown[]) => readonly string[]) | undefined
  entry: { ttl?: number; staleWhileRevalidate?: number; grace?: number }
}

function normalize(options: CacheableOptions): NormalizedCacheable {
  if (options === null || typeof options !== 'object') {
    throw new ValidationError('@Cacheable() options must be an object', 'options')
  }
  for (const name of Object.keys(options)) {
    if (!KNOWN.has(name)) throw new ValidationError(`Unknown @Cacheable() option "${name}"`, name)
  }
  const { key, tags } = options
  if (key !== undefined && typeof key !== 'function' && (typeof key !== 'string' || key === '')) {
    throw new ValidationError('"key" must be a non-empty string or a function', 'key')
  }
  if (
    tags !== undefined &&
    typeof tags !== 'function' &&
    !(Array.isArray(tags) && tags.every((tag) => typeof tag === 'string' && tag !== ''))
  ) {
    throw new ValidationError('"tags" must be an array of non-empty strings or a function', 'tags')
  }
  const entry: NormalizedCacheable['entry'] = {}
  for (const name of ['ttl', 'staleWhileRevalidate', 'grace'] as const) {
    const value = options[name]
    if (value !== undefined) entry[name] = parseDuration(value, name)
  }
  return { key: key as NormalizedCacheable['key'], tags: tags as NormalizedCacheable['tags'], entry }
}

/** Settles a method's result: a promise is awaited, an Observable's last value taken. */
export async function settle(result: unknown): Promise<unknown> {
  return isObservable(result) ? lastValueFrom(result) : result
}

/**
 * Caches a service method in the module's stack. Concurrent calls with the same arguments run the
 * method once; a throwing method caches nothing and its error reaches every caller unchanged. When the
 * cache itself fails (Redis down), the method runs uncached rather than failing the call.
 */
export function Cacheable(options: CacheableOptions = {}): MethodDecorator {
  const config = normalize(options)
  return (target, propertyKey, descriptor) =>
    replaceMethod(target, propertyKey, descriptor, 'Cacheable', (original, label) => {
      const prefix = typeof config.key === 'string' ? config.key : label
      return async function cached(this: unknown, ...args: unknown[]) {
        const cache = stackFor(this)
        const run = () => settle(original.apply(this, args))
        if (!cache) return run()
        const tags = typeof config.tags === 'function' ? config.tags(...args) : config.tags
        const entry = tags ? { ...config.entry, tags: [...tags] } : config.entry
        try {
          if (typeof config.key === 'function') return await cache.getOrSet(config.key(...args), run, entry)
          return await cache.wrap(prefix, (..._: unknown[]) => run(), entry)(...args)
        } catch (error) {
          if (error instanceof FactoryError) throw error.cause
          if (error instanceof ValidationError) throw error
          return run()
        }
      }
    }) as never
}

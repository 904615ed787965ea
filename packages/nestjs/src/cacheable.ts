import {
  CacheError,
  type Duration,
  FactoryError,
  FactoryTimeoutError,
  parseDuration,
  ValidationError,
} from '@cachestack/core'
import { isObservable, lastValueFrom } from 'rxjs'
import { replaceMethod } from './method-wrapper.ts'
import { operationsFor } from './operation-for.ts'
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
  /** Tags stored with each entry: a list, or computed from the result and the arguments. */
  tags?: readonly string[] | ((result: never, ...args: never[]) => readonly string[])
  /** Window after `ttl` in which the stale value is returned while one background call refreshes it. */
  staleWhileRevalidate?: Duration
  /** Window after `ttl` in which a failing method is hidden behind the stale value. */
  grace?: Duration
}

const KNOWN = new Set(['key', 'ttl', 'tags', 'staleWhileRevalidate', 'grace'])
type TagsFn = (result: unknown, ...args: unknown[]) => readonly string[]

function normalize(options: CacheableOptions) {
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
  const entry: { ttl?: number; staleWhileRevalidate?: number; grace?: number } = {}
  for (const name of ['ttl', 'staleWhileRevalidate', 'grace'] as const) {
    const value = options[name]
    if (value !== undefined) entry[name] = parseDuration(value, name)
  }
  return {
    key: key as string | ((...args: unknown[]) => string) | undefined,
    tags: tags as readonly string[] | TagsFn | undefined,
    entry,
  }
}

/** Settles a method's result: a promise is awaited, an Observable's last value taken. */
export async function settle(result: unknown): Promise<unknown> {
  return isObservable(result) ? lastValueFrom(result) : result
}

/**
 * Caches a service method in the module's stack (core's `OperationCache`): concurrent calls with the same
 * arguments run the method once; a throwing method caches nothing and its own error (an `HttpException`,
 * an `RpcException`...) reaches every caller unchanged. When the cache itself fails (Redis down, the stack
 * disconnected), the method runs uncached rather than failing the call.
 */
export function Cacheable(options: CacheableOptions = {}): MethodDecorator {
  const config = normalize(options)
  return (target, propertyKey, descriptor) =>
    replaceMethod(target, propertyKey, descriptor, 'Cacheable', (original, label) => {
      const { key, tags } = config
      const operations = operationsFor<unknown[], unknown>((cache) => ({
        cache,
        name: typeof key === 'string' ? key : label,
        ...(typeof key === 'function' ? { key: (args) => key(...args) } : {}),
        ...config.entry,
        ...(tags === undefined
          ? {}
          : { tags: typeof tags === 'function' ? (result, args) => tags(result, ...args) : tags }),
      }))
      return async function cached(this: unknown, ...args: unknown[]) {
        const cache = stackFor(this)
        let failure: { error: unknown } | undefined
        const run = async () => {
          try {
            return await settle(original.apply(this, args))
          } catch (error) {
            failure = { error }
            throw error
          }
        }
        if (!cache) return run()
        try {
          return (await operations(cache).query(args, undefined, run)).value
        } catch (error) {
          if (failure) throw failure.error
          // A caller that joined another caller's failed run gets that run's own error too.
          if (error instanceof FactoryError) throw error.cause
          if (error instanceof CacheError && !(error instanceof FactoryTimeoutError)) return run()
          throw error
        }
      }
    }) as never
}

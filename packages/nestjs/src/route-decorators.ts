import { type Duration, parseDuration, ValidationError } from '@cachestack/core'
import { normalizeResponseCacheOptions, type ResponseCacheOptions } from '@cachestack/core/http'
import { SetMetadata } from '@nestjs/common'
import { METADATA } from './tokens.ts'

/** Response caching options of a route or controller (`request` is Express's or Fastify's request). */
export type RouteCacheOptions = ResponseCacheOptions<any, any>

/** A decorator usable on a controller class or on one handler. */
export type ClassOrMethodDecorator = ClassDecorator & MethodDecorator

/** Fresh period of the cached response, in ms (or a duration string such as `'30s'`). */
export function CacheTTL(ttl: Duration): ClassOrMethodDecorator {
  parseDuration(ttl, 'ttl')
  return SetMetadata(METADATA.ttl, ttl)
}

/** Tags stored with the cached response: a list, or computed from the request and the response. */
export function CacheTags(
  ...tags: string[] | [(request: any, response: any) => readonly string[]]
): ClassOrMethodDecorator {
  const value = tags.length === 1 && typeof tags[0] === 'function' ? tags[0] : tags
  normalizeResponseCacheOptions({ tags: value as RouteCacheOptions['tags'] })
  return SetMetadata(METADATA.tags, value)
}

/**
 * Replaces the canonical key (method, host, path, sorted query) with a fixed key or one computed from
 * the request; the scope (the session hash of a private route) is still appended.
 */
export function CacheKey(key: string | ((request: any) => string | Promise<string>)): ClassOrMethodDecorator {
  if (typeof key !== 'function' && (typeof key !== 'string' || key === '')) {
    throw new ValidationError('@CacheKey() takes a non-empty string or a (request) => key function', 'key')
  }
  return SetMetadata(METADATA.key, key)
}

/** Leaves a route (or a whole controller) out of response caching, also under a global interceptor. */
export function NoCache(): ClassOrMethodDecorator {
  return SetMetadata(METADATA.noCache, true)
}

/**
 * Any response caching option for a route or controller: `scope: 'private'` with `session(req)`,
 * `vary`, `ignoreQuery`, `staleWhileRevalidate`, `grace`, `statuses`, `maxBodySize`, `bypass`, and
 * `invalidates` on a mutation (run after a 2xx answer, before it reaches the client)...
 * Checked when the class is defined: a misspelled option throws a `ValidationError` naming it.
 */
export function CacheOptions(options: RouteCacheOptions): ClassOrMethodDecorator {
  if (options === null || typeof options !== 'object') {
    throw new ValidationError('@CacheOptions() takes an options object', 'options')
  }
  // Private scope is checked once merged with the module's defaults (the session may come from there).
  const { scope: _scope, ...checked } = options
  normalizeResponseCacheOptions(checked as RouteCacheOptions & Record<string, unknown>)
  return SetMetadata(METADATA.options, options)
}

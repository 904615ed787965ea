import { type CacheLayer, CacheStack, type CacheStackOptions, ValidationError } from '@cachestack/core'
import { normalizeResponseCacheOptions } from '@cachestack/core/http'
import type { RouteCacheOptions } from './route-decorators.ts'

/** Options of the stats route. */
export interface StatsRouteOptions {
  /** Where the route is mounted (under the app's global prefix, if any). @default '/cache/stats' */
  path?: string
  /** Must return `true` for the stats to be served; anything else answers 403. */
  authorize: (request: any) => boolean | Promise<boolean>
}

/** What the module needs besides the stack itself. */
interface CommonOptions {
  /** Response caching defaults for every route the `CacheInterceptor` caches. */
  http?: Omit<RouteCacheOptions, 'invalidates'>
  /** Disconnect the stack when the application shuts down. @default true */
  disconnectOnShutdown?: boolean
}

/** Either a stack built elsewhere (stack options beside it are a type error, and a `ValidationError`)... */
export interface ExistingStackOptions
  extends CommonOptions,
    Partial<Record<Exclude<keyof CacheStackOptions, keyof CommonOptions> | 'layers', never>> {
  /** The `CacheStack` to use. */
  cache: CacheStack
}

/** ...or the layers and options of a stack the module builds. */
export interface NewStackOptions extends CommonOptions, CacheStackOptions {
  /** Layers, fastest first. @default one MemoryLayer */
  layers?: readonly CacheLayer[]
  cache?: never
}

/** What `forRoot` takes and a `forRootAsync` factory returns. */
export type CacheStackModuleOptions = ExistingStackOptions | NewStackOptions

/** Options of `forRoot` that only make sense statically (they add routes). */
export interface StaticModuleOptions {
  /** Mounts a stats route answering `cache.getStats()`. */
  stats?: StatsRouteOptions
}

/** The module's options once resolved, as the interceptor and lifecycle read them. */
export interface ResolvedModuleOptions {
  readonly cache: CacheStack
  readonly http: Omit<RouteCacheOptions, 'invalidates'>
  readonly disconnectOnShutdown: boolean
}

/** Default path of the stats route. */
export const DEFAULT_STATS_PATH = '/cache/stats'

/** Builds (or takes) the stack and checks the module's own options, naming any bad one. */
export function resolveModuleOptions(options: unknown): ResolvedModuleOptions {
  if (options === null || typeof options !== 'object') {
    throw new ValidationError('CacheStackModule options must be an object', 'options')
  }
  const { cache, layers, http, disconnectOnShutdown, stats, ...stackOptions } = options as Omit<
    NewStackOptions,
    'cache'
  > & { cache?: unknown; stats?: unknown }
  if (stats !== undefined) {
    throw new ValidationError(
      '"stats" adds a route, so it belongs to forRoot/forRootAsync options, not a factory',
      'stats',
    )
  }
  if (disconnectOnShutdown !== undefined && typeof disconnectOnShutdown !== 'boolean') {
    throw new ValidationError('"disconnectOnShutdown" must be a boolean', 'disconnectOnShutdown')
  }
  if (http !== undefined) {
    if (http === null || typeof http !== 'object')
      throw new ValidationError('"http" must be an object', 'http')
    normalizeResponseCacheOptions(http as RouteCacheOptions & Record<string, unknown>)
  }
  let stack: CacheStack
  if (cache !== undefined) {
    if (!(cache instanceof CacheStack)) throw new ValidationError('"cache" must be a CacheStack', 'cache')
    const extra = Object.keys(stackOptions)[0] ?? (layers !== undefined ? 'layers' : undefined)
    if (extra !== undefined) {
      throw new ValidationError(
        `"${extra}" configures a new stack; it cannot be combined with "cache"`,
        extra,
      )
    }
    stack = cache
  } else {
    if (layers !== undefined && !Array.isArray(layers)) {
      throw new ValidationError('"layers" must be an array of layers', 'layers')
    }
    stack = new CacheStack(layers, stackOptions)
  }
  return { cache: stack, http: http ?? {}, disconnectOnShutdown: disconnectOnShutdown ?? true }
}

/** Checks the static stats option. */
export function checkStats(stats: unknown): StatsRouteOptions | undefined {
  if (stats === undefined) return undefined
  const value = stats as StatsRouteOptions
  if (value === null || typeof value !== 'object')
    throw new ValidationError('"stats" must be an object', 'stats')
  for (const name of Object.keys(value)) {
    if (name !== 'path' && name !== 'authorize')
      throw new ValidationError(`Unknown stats option "${name}"`, `stats.${name}`)
  }
  if (typeof value.authorize !== 'function') {
    throw new ValidationError(
      '"stats.authorize" must be a function: stats are never public by default',
      'stats.authorize',
    )
  }
  if (value.path !== undefined && (typeof value.path !== 'string' || !value.path.startsWith('/'))) {
    throw new ValidationError('"stats.path" must be a path starting with "/"', 'stats.path')
  }
  return value
}

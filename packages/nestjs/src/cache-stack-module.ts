import { type DynamicModule, type FactoryProvider, Module, type ModuleMetadata } from '@nestjs/common'
import { DiscoveryModule } from '@nestjs/core'
import { CacheInterceptor } from './cache-interceptor.ts'
import { CacheStackLifecycle } from './cache-stack-lifecycle.ts'
import {
  type CacheStackModuleOptions,
  checkStats,
  type ResolvedModuleOptions,
  resolveModuleOptions,
  type StaticModuleOptions,
} from './module-options.ts'
import { statsController } from './stats-controller.ts'
import { CACHE_STACK, CACHESTACK_MODULE_OPTIONS } from './tokens.ts'

/** Options of `CacheStackModule.forRootAsync`. */
export interface CacheStackModuleAsyncOptions extends StaticModuleOptions {
  /** Modules whose providers the factory injects (`ConfigModule`...). */
  imports?: ModuleMetadata['imports']
  /** Tokens injected into `useFactory`, in order. */
  inject?: FactoryProvider['inject']
  /** Returns `{ cache }` or the options of a stack to build (`{ layers, ttl, ... }`). */
  useFactory: (...args: any[]) => CacheStackModuleOptions | Promise<CacheStackModuleOptions>
  /** Register the module globally. @default false */
  isGlobal?: boolean
}

/**
 * The cachestack module: provides the `CacheStack` (`@InjectCache()`), the `CacheInterceptor`, binds
 * `@Cacheable`/`@InvalidateTags` methods to the stack, mounts the optional stats route, and disconnects
 * the stack on application shutdown.
 */
// biome-ignore lint/complexity/noStaticOnlyClass: a Nest module is a class; forRoot/forRootAsync are its idiom
export class CacheStackModule {
  /** Configures the module with a stack (`{ cache }`) or the options of one (`{ layers, ...options }`). */
  static forRoot(
    options: CacheStackModuleOptions & StaticModuleOptions = {},
    isGlobal = false,
  ): DynamicModule {
    const { stats, ...rest } = options as CacheStackModuleOptions & StaticModuleOptions
    return CacheStackModule.#define(
      { provide: CACHESTACK_MODULE_OPTIONS, useFactory: () => resolveModuleOptions(rest) },
      checkStats(stats),
      isGlobal,
      [],
    )
  }

  /** Configures the module from injected providers: `useFactory` returns what `forRoot` takes. */
  static forRootAsync(options: CacheStackModuleAsyncOptions): DynamicModule {
    if (typeof options?.useFactory !== 'function') {
      throw new TypeError('CacheStackModule.forRootAsync needs a "useFactory" function')
    }
    const { useFactory, inject = [], imports = [], isGlobal = false, stats } = options
    return CacheStackModule.#define(
      {
        provide: CACHESTACK_MODULE_OPTIONS,
        useFactory: async (...args: unknown[]) => resolveModuleOptions(await useFactory(...args)),
        inject,
      },
      checkStats(stats),
      isGlobal,
      imports,
    )
  }

  static #define(
    optionsProvider: FactoryProvider,
    stats: StaticModuleOptions['stats'],
    isGlobal: boolean,
    imports: NonNullable<ModuleMetadata['imports']>,
  ): DynamicModule {
    return {
      module: CacheStackModule,
      global: isGlobal,
      imports: [DiscoveryModule, ...imports],
      providers: [
        optionsProvider,
        {
          provide: CACHE_STACK,
          useFactory: (resolved: ResolvedModuleOptions) => resolved.cache,
          inject: [CACHESTACK_MODULE_OPTIONS],
        },
        CacheStackLifecycle,
        CacheInterceptor,
      ],
      controllers: stats ? [statsController(stats)] : [],
      exports: [CACHE_STACK, CACHESTACK_MODULE_OPTIONS, CacheInterceptor],
    }
  }
}

Module({})(CacheStackModule)

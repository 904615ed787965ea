import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common'
import { DiscoveryService } from '@nestjs/core'
import type { ResolvedModuleOptions } from './module-options.ts'
import { bindStack, unbindStack } from './stack-registry.ts'
import { CACHESTACK_MODULE_OPTIONS, METADATA } from './tokens.ts'

/** Binds decorated providers and controllers to the stack at start, disconnects it at shutdown. */
export class CacheStackLifecycle implements OnModuleInit, OnApplicationShutdown {
  readonly #options: ResolvedModuleOptions
  readonly #discovery: DiscoveryService
  readonly #bound: object[] = []

  constructor(options: ResolvedModuleOptions, discovery: DiscoveryService) {
    this.#options = options
    this.#discovery = discovery
  }

  /** Finds every instance whose class uses `@Cacheable` or `@InvalidateTags`. */
  onModuleInit(): void {
    for (const wrapper of [...this.#discovery.getProviders(), ...this.#discovery.getControllers()]) {
      const metatype = wrapper.metatype as object | null | undefined
      if (!metatype || typeof metatype !== 'function') continue
      if (!Reflect.getMetadata(METADATA.usesStack, metatype)) continue
      const instance = wrapper.isDependencyTreeStatic() ? (wrapper.instance as object | undefined) : undefined
      bindStack(this.#options.cache, instance, metatype)
      if (instance) this.#bound.push(instance)
    }
  }

  /** Disconnects the stack once the HTTP server has closed (`app.close()`, shutdown signals). */
  async onApplicationShutdown(): Promise<void> {
    unbindStack(this.#options.cache, this.#bound.splice(0))
    if (this.#options.disconnectOnShutdown) await this.#options.cache.disconnect()
  }
}

Injectable()(CacheStackLifecycle)
Inject(CACHESTACK_MODULE_OPTIONS)(CacheStackLifecycle, undefined, 0)
Inject(DiscoveryService)(CacheStackLifecycle, undefined, 1)

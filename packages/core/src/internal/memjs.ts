import { createRequire } from 'node:module'

/** The part of a memjs `Client` the memcached layer uses (memjs ships no types of its own). */
export interface MemjsClient {
  get(key: string): Promise<{ value: Buffer | null; flags: Buffer | null }>
  set(key: string, value: Buffer | string, options: { expires?: number }): Promise<boolean | null>
  delete(key: string): Promise<boolean | null>
  quit(): void
  close(): void
  /** The servers the client talks to; the layer scans their keys over a separate connection. */
  readonly servers: readonly { readonly host: string; readonly port: number }[]
}

/** The memjs module as far as the layer needs it. */
export interface MemjsModule {
  Client: { create(servers: string, options?: Record<string, unknown>): MemjsClient }
}

let loaded: MemjsModule | undefined

/**
 * memjs, loaded on first use (it is an optional peer dependency): apps that never create a
 * `MemcachedLayer` with `servers` neither load nor install it.
 */
export function memjs(): MemjsModule {
  loaded ??= createRequire(import.meta.url)('memjs') as MemjsModule
  return loaded
}

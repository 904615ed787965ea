import { createRequire } from 'node:module'
import type * as IORedis from 'ioredis'

let loaded: typeof IORedis | undefined

/**
 * ioredis, loaded on first use: a memory-only app imports `@cachestack/core` without paying for ioredis
 * (and its dependencies) at start-up. Only code that creates a client itself calls this; clients passed
 * in are used as they are.
 */
export function ioredis(): typeof IORedis {
  loaded ??= createRequire(import.meta.url)('ioredis') as typeof IORedis
  return loaded
}

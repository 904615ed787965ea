import { createRequire } from 'node:module'
import type * as Pg from 'pg'

let loaded: typeof Pg | undefined

/**
 * `pg`, loaded on first use: it is an optional peer, so an app without a `PostgresLayer` never needs it
 * installed. Only a layer that creates its own pool calls this; a `Pool` passed in is used as it is.
 */
export function pg(): typeof Pg {
  loaded ??= createRequire(import.meta.url)('pg') as typeof Pg
  return loaded
}

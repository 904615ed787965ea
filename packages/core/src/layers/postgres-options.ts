import type { Pool, PoolConfig } from 'pg'
import { ValidationError } from '../errors.ts'
import { assertKnownOptions, optionNames } from '../internal/known-options.ts'
import { pg } from '../internal/pg.ts'
import { type Duration, optionalDuration } from '../internal/units.ts'

/** Options of `PostgresLayer`. Give exactly one of `pool` or `connectionString` / `poolOptions`. */
export interface PostgresLayerOptions {
  /** A `pg` `Pool`; the layer never ends a pool it was given. */
  pool?: Pool | undefined
  /** A PostgreSQL URL (`postgres://user:pass@host:5432/db`); the layer creates a pool and ends it on `dispose`. */
  connectionString?: string | undefined
  /** `pg` pool options for a pool the layer creates (merged with `connectionString`). */
  poolOptions?: PoolConfig | undefined
  /** Layer name used in stats, events and per-layer TTL maps. @default 'postgres' */
  name?: string | undefined
  /**
   * The table entries live in, created on first use: a plain identifier (`[a-z_][a-z0-9_]*`, at most 48
   * characters), optionally `schema.table`. @default 'cachestack_entries'
   */
  table?: string | undefined
  /**
   * A query (or a connection attempt) that does not answer within this rejects with a `LayerError`:
   * an unreachable or stalled database is a bounded failure, never a stall. @default '2s'
   */
  queryTimeout?: Duration | undefined
  /** Rows `prune()` deletes per statement, so it never holds long locks on a large table. @default 1000 */
  pruneBatchSize?: number | undefined
}

/** `PostgresLayerOptions` after validation. */
export interface NormalizedPostgresLayerOptions {
  readonly pool: Pool
  readonly ownsPool: boolean
  readonly name: string
  /** The quoted, schema-qualified table name, safe to put in SQL. */
  readonly table: string
  /** The quoted name of the expiry index (in the table's schema when one is given). */
  readonly expiryIndex: string
  readonly queryTimeout: number
  readonly pruneBatchSize: number
}

const NAMES = optionNames<PostgresLayerOptions>({
  pool: true,
  connectionString: true,
  poolOptions: true,
  name: true,
  table: true,
  queryTimeout: true,
  pruneBatchSize: true,
})

// Lower case only: an unquoted identifier folds to lower case, a quoted one does not, and allowing both
// would let `Cache` and `cache` name different tables depending on who wrote the SQL.
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,47}$/
const DEFAULT_QUERY_TIMEOUT = 2000

/** Validates `options` once; every problem throws a `ValidationError` naming the option. */
export function normalizePostgresLayerOptions(options: PostgresLayerOptions): NormalizedPostgresLayerOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('PostgresLayer options must be an object', 'options')
  }
  assertKnownOptions(options, NAMES, 'an option of new PostgresLayer()')
  const name = options.name ?? 'postgres'
  if (typeof name !== 'string' || name === '') {
    throw new ValidationError(`"name" must be a non-empty string; got ${String(name)}`, 'name')
  }
  const { table, expiryIndex } = tableNames(options.table ?? 'cachestack_entries')
  const queryTimeout = optionalDuration(options.queryTimeout, 'queryTimeout') ?? DEFAULT_QUERY_TIMEOUT
  if (queryTimeout < 1) {
    throw new ValidationError(`"queryTimeout" must be at least 1 ms; got ${queryTimeout}`, 'queryTimeout')
  }
  const pruneBatchSize = options.pruneBatchSize ?? 1000
  if (!Number.isInteger(pruneBatchSize) || pruneBatchSize < 1) {
    throw new ValidationError(
      `"pruneBatchSize" must be a positive integer; got ${String(pruneBatchSize)}`,
      'pruneBatchSize',
    )
  }
  const { pool, ownsPool } = resolvePool(options, queryTimeout)
  return { pool, ownsPool, name, table, expiryIndex, queryTimeout, pruneBatchSize }
}

function tableNames(value: unknown): { table: string; expiryIndex: string } {
  const parts = typeof value === 'string' ? value.split('.') : []
  if (parts.length === 0 || parts.length > 2 || !parts.every((part) => IDENTIFIER.test(part))) {
    throw new ValidationError(
      `"table" must be an identifier like "cachestack_entries" or "schema.table" ` +
        `(lower-case letters, digits, _; at most 48 characters each); got ${JSON.stringify(value)}`,
      'table',
    )
  }
  const quoted = parts.map((part) => `"${part}"`)
  const schema = parts.length === 2 ? `${quoted[0]}.` : ''
  return { table: quoted.join('.'), expiryIndex: `${schema}"${parts.at(-1)}_expires_at"` }
}

function resolvePool(options: PostgresLayerOptions, queryTimeout: number): { pool: Pool; ownsPool: boolean } {
  const { pool, connectionString, poolOptions } = options
  if ((pool === undefined) === (connectionString === undefined && poolOptions === undefined)) {
    throw new ValidationError('give exactly one of "pool" or "connectionString" / "poolOptions"', 'pool')
  }
  if (pool !== undefined) {
    // Duck-typed: a second copy of pg in node_modules defeats `instanceof`.
    const candidate = pool as unknown as Record<string, unknown>
    if (typeof candidate !== 'object' || candidate === null || typeof candidate.query !== 'function') {
      throw new ValidationError('"pool" must be a pg Pool', 'pool')
    }
    return { pool, ownsPool: false }
  }
  if (connectionString !== undefined && (typeof connectionString !== 'string' || connectionString === '')) {
    throw new ValidationError('"connectionString" must be a non-empty string', 'connectionString')
  }
  const created = new (pg().Pool)({
    connectionTimeoutMillis: queryTimeout,
    statement_timeout: queryTimeout,
    query_timeout: queryTimeout,
    ...poolOptions,
    ...(connectionString === undefined ? {} : { connectionString }),
  })
  return { pool: created, ownsPool: true }
}

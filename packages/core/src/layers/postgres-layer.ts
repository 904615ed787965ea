import { createHash } from 'node:crypto'
import type { Pool, QueryResultRow } from 'pg'
import { LayerError, ValidationError } from '../errors.ts'
import { CorruptedEntryError, EntryCodec } from '../internal/serialization.ts'
import { JSON_VALUES, type ValueSupport } from '../internal/value-check.ts'
import {
  type CacheEntry,
  type CacheLayer,
  type Clock,
  type LayerContext,
  type LayerWrite,
  systemClock,
} from '../layer.ts'
import { decodeKey, encodeKey, prefixSuccessor } from './postgres-keys.ts'
import { normalizePostgresLayerOptions, type PostgresLayerOptions } from './postgres-options.ts'

export type { PostgresLayerOptions } from './postgres-options.ts'

// The "C" collation orders keys by UTF-8 bytes, so the primary key's b-tree also answers prefix ranges
// (`key >= p AND key < successor(p)`), whatever the database's default collation.
const KEYS_PAGE = 1000
/**
 * The longest stored key, in UTF-8 bytes: a b-tree entry must fit in a third of a page (~2.7 kB), so
 * longer keys are refused with a `ValidationError` on write (hash them first) and read as misses.
 */
export const MAX_POSTGRES_KEY_BYTES = 2048

/** A PostgreSQL query that did not answer within the layer's `queryTimeout` (the `cause` of a `LayerError`). */
export class PostgresTimeoutError extends Error {
  readonly code = 'E_POSTGRES_TIMEOUT'
  constructor(timeout: number) {
    super(`PostgreSQL did not answer within ${timeout} ms`)
    this.name = 'PostgresTimeoutError'
  }
}

/**
 * The database layer, on `pg`: one row per key in a table created on first use, the entry as JSON bytes,
 * the physical expiry as a column (epoch ms from the stack's clock) checked on every read. Expired rows
 * are invisible at once and removed by `prune()`. Bytes that cannot be decoded are a miss: the row is
 * deleted and the error reported to the stack.
 */
export class PostgresLayer implements CacheLayer {
  readonly name: string
  readonly isLocal = false
  /** Plain JSON data. */
  readonly storable: ValueSupport = JSON_VALUES
  /** The pg pool in use (given or created). */
  readonly pool: Pool
  readonly #ownsPool: boolean
  readonly #table: string
  readonly #expiryIndex: string
  readonly #timeout: number
  readonly #batch: number
  readonly #codec = new EntryCodec({
    serializer: 'json',
    compression: undefined,
    compressionThreshold: Number.POSITIVE_INFINITY,
    maxDecompressedSize: Number.POSITIVE_INFINITY,
  })
  readonly #statements = new Map<string, string>()
  #context: LayerContext | undefined
  #clock: Clock = systemClock
  #ready: Promise<void> | undefined
  #disposed: Promise<void> | undefined

  constructor(options: PostgresLayerOptions) {
    const normalized = normalizePostgresLayerOptions(options)
    this.name = normalized.name
    this.pool = normalized.pool
    this.#ownsPool = normalized.ownsPool
    this.#table = normalized.table
    this.#expiryIndex = normalized.expiryIndex
    this.#timeout = normalized.queryTimeout
    this.#batch = normalized.pruneBatchSize
    // An idle pooled connection that drops emits `error` on the pool; unheard, it would crash the process.
    if (this.#ownsPool) this.pool.on('error', (error) => this.#context?.reportError(error, 'connection'))
  }

  attach(context: LayerContext): void {
    this.#context = context
    this.#clock = context.clock
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    const { rows } = await this.#query(
      'get',
      `SELECT value FROM ${this.#table} WHERE key = $1 AND (expires_at IS NULL OR expires_at > $2)`,
      [encodeKey(key), this.#now()],
    )
    return rows.length === 0 ? undefined : this.#decode(key, rows[0]!.value as Buffer, 'get')
  }

  async getMany(keys: readonly string[]): Promise<(CacheEntry | undefined)[]> {
    if (keys.length === 0) return []
    const stored = [...new Set(keys.map(encodeKey))]
    const { rows } = await this.#query(
      'getMany',
      `SELECT key, value FROM ${this.#table}
       WHERE key = ANY($1::text[]) AND (expires_at IS NULL OR expires_at > $2)`,
      [stored, this.#now()],
    )
    const found = new Map<string, Buffer>(rows.map((row) => [row.key as string, row.value as Buffer]))
    // Each read decodes its own copy: two positions for one key must not share a value.
    return Promise.all(
      keys.map((key) => {
        const value = found.get(encodeKey(key))
        return value === undefined ? undefined : this.#decode(key, value, 'getMany')
      }),
    )
  }

  async set(key: string, entry: CacheEntry, ttl: number | undefined): Promise<void> {
    await this.setMany([{ key, entry, ttl }])
  }

  /** One upsert for every write (a later write of the same key wins). */
  async setMany(writes: readonly LayerWrite[]): Promise<void> {
    if (writes.length === 0) return
    const now = this.#now()
    const latest = new Map<string, { value: Buffer; expiresAt: number | null }>()
    for (const { key, entry, ttl } of writes) {
      latest.set(this.#storedKey(key), {
        value: await this.#encode(entry, writes.length === 1 ? 'set' : 'setMany'),
        expiresAt: expiresAt(ttl, now),
      })
    }
    if (latest.size === 1) {
      // One row: a plain VALUES upsert, cheaper to run than building and unnesting three arrays.
      const [key, row] = latest.entries().next().value!
      await this.#query(
        'set',
        `INSERT INTO ${this.#table} (key, value, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
        [key, row.value, row.expiresAt],
      )
      return
    }
    const rows = [...latest.values()]
    await this.#query(
      'setMany',
      `INSERT INTO ${this.#table} (key, value, expires_at)
       SELECT * FROM unnest($1::text[], $2::bytea[], $3::bigint[])
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
      [[...latest.keys()], rows.map((row) => row.value), rows.map((row) => row.expiresAt)],
    )
  }

  #storedKey(key: string): string {
    const stored = encodeKey(key)
    if (Buffer.byteLength(stored) > MAX_POSTGRES_KEY_BYTES) {
      throw new ValidationError(
        `a PostgresLayer key must be at most ${MAX_POSTGRES_KEY_BYTES} bytes (UTF-8); got ` +
          `${Buffer.byteLength(stored)} (hash long keys first)`,
        'key',
      )
    }
    return stored
  }

  async #encode(entry: CacheEntry, operation: string): Promise<Buffer> {
    try {
      return Buffer.from(await this.#codec.encode(entry))
    } catch (error) {
      throw new LayerError(this.name, operation, error)
    }
  }

  async delete(key: string): Promise<boolean> {
    return (await this.deleteMany([key])) > 0
  }

  /** Deletes the rows and counts those that had not expired yet (an expired row is already gone for readers). */
  async deleteMany(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0
    const { rows } = await this.#query(
      'deleteMany',
      `WITH gone AS (DELETE FROM ${this.#table} WHERE key = ANY($1::text[]) RETURNING expires_at)
       SELECT count(*)::int AS n FROM gone WHERE expires_at IS NULL OR expires_at > $2`,
      [[...new Set(keys.map(encodeKey))], this.#now()],
    )
    return rows[0]!.n as number
  }

  /** Removes the keys under `prefix` with one indexed range delete (every row when `prefix` is empty). */
  async clear(prefix = ''): Promise<void> {
    const { where, params } = prefixRange(prefix, 1)
    await this.#query('clear', `DELETE FROM ${this.#table} WHERE ${where}`, params)
  }

  /** Iterates the live keys under `prefix` in key order, a page at a time (keyset pagination). */
  async *keys(prefix = ''): AsyncIterable<string> {
    const { where, params } = prefixRange(prefix, 4)
    let after = ''
    while (true) {
      const { rows } = await this.#query(
        'keys',
        `SELECT key FROM ${this.#table}
         WHERE key > $1 AND (expires_at IS NULL OR expires_at > $2) AND ${where}
         ORDER BY key LIMIT $3`,
        [after, this.#now(), KEYS_PAGE, ...params],
      )
      for (const row of rows) yield decodeKey(row.key as string)
      if (rows.length < KEYS_PAGE) return
      after = rows.at(-1)!.key as string
    }
  }

  async has(key: string): Promise<boolean> {
    return (await this.ttl(key)) !== undefined
  }

  async ttl(key: string): Promise<number | undefined> {
    const now = this.#now()
    const { rows } = await this.#query(
      'ttl',
      `SELECT expires_at FROM ${this.#table} WHERE key = $1 AND (expires_at IS NULL OR expires_at > $2)`,
      [encodeKey(key), now],
    )
    if (rows.length === 0) return undefined
    const at = rows[0]!.expires_at as string | null
    return at === null ? Number.POSITIVE_INFINITY : Number(at) - now
  }

  /**
   * Deletes expired rows, `pruneBatchSize` per statement, until none are left; answers how many went.
   * Reads never see expired rows anyway: this only gives the space back. Run it from a timer or a job.
   */
  async prune(): Promise<number> {
    const now = this.#now()
    let total = 0
    while (true) {
      const { rowCount } = await this.#query(
        'prune',
        `DELETE FROM ${this.#table} WHERE key IN (
           SELECT key FROM ${this.#table} WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
        [now, this.#batch],
      )
      total += rowCount ?? 0
      if ((rowCount ?? 0) < this.#batch) return total
    }
  }

  async ping(): Promise<void> {
    await this.#query('ping', 'SELECT 1', [], false)
  }

  /** Ends the pool when the layer created it (a `pool` given in the options is the caller's to end). */
  dispose(): Promise<void> {
    this.#disposed ??= this.#ownsPool ? this.#bounded(this.pool.end()).catch(() => {}) : Promise.resolve()
    return this.#disposed
  }

  #now(): number {
    return Math.floor(this.#clock.now())
  }

  async #decode(key: string, value: Buffer, operation: string): Promise<CacheEntry | undefined> {
    try {
      return await this.#codec.decodeBytes(value, this.#context?.isDead)
    } catch (error) {
      if (!(error instanceof CorruptedEntryError)) throw new LayerError(this.name, operation, error)
      this.#context?.reportError(error, operation, key)
      // Deleted so the next read does not pay again; a failure here only leaves the row to expire.
      await this.#query('delete', `DELETE FROM ${this.#table} WHERE key = $1`, [encodeKey(key)]).catch(
        () => {},
      )
      return undefined
    }
  }

  /** Runs one statement, creating the table first if this layer has not yet; failures become `LayerError`s. */
  async #query(
    operation: string,
    text: string,
    params: unknown[],
    needsTable = true,
  ): Promise<{ rows: QueryResultRow[]; rowCount: number | null }> {
    const send = () =>
      this.#bounded(this.pool.query({ name: this.#statementName(text), text, values: params }))
    try {
      if (needsTable) await this.#ensureTable()
      try {
        return await send()
      } catch (error) {
        // The table was dropped behind the layer's back (a migration, a reset): create it again, once.
        if (!needsTable || (error as { code?: string }).code !== '42P01') throw error
        this.#ready = undefined
        await this.#ensureTable()
        return await send()
      }
    } catch (error) {
      throw error instanceof LayerError ? error : new LayerError(this.name, operation, error)
    }
  }

  /**
   * A named (prepared) statement per distinct SQL text: each pooled connection parses and plans it once,
   * instead of on every call. Named after a hash of the text, so two texts never share a name.
   */
  #statementName(text: string): string {
    let name = this.#statements.get(text)
    if (name === undefined) {
      name = `cachestack_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`
      this.#statements.set(text, name)
    }
    return name
  }

  #ensureTable(): Promise<void> {
    this.#ready ??= this.#createTable().catch((error) => {
      this.#ready = undefined
      throw error
    })
    return this.#ready
  }

  async #createTable(): Promise<void> {
    const ddl = `CREATE TABLE IF NOT EXISTS ${this.#table} (
        key text COLLATE "C" PRIMARY KEY,
        value bytea NOT NULL,
        expires_at bigint
      );
      CREATE INDEX IF NOT EXISTS ${this.#expiryIndex.split('.').at(-1)} ON ${this.#table} (expires_at)
        WHERE expires_at IS NOT NULL`
    try {
      await this.#bounded(this.pool.query(ddl))
    } catch (error) {
      // Two processes creating the table at once: one wins, the other sees a duplicate in the catalog.
      const code = (error as { code?: string }).code
      if (code !== '23505' && code !== '42P07') throw error
    }
  }

  /** `promise`, or a `PostgresTimeoutError` after `queryTimeout` (a given pool may have no timeouts of its own). */
  #bounded<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PostgresTimeoutError(this.#timeout)), this.#timeout)
    })
    return Promise.race([promise, late]).finally(() => clearTimeout(timer))
  }
}

/** The physical expiry for a TTL in ms: `null` for "forever", else whole milliseconds from now, at least 1. */
function expiresAt(ttl: number | undefined, now: number): number | null {
  if (ttl === undefined || ttl === Number.POSITIVE_INFINITY) return null
  return now + Math.max(1, Math.ceil(ttl))
}

/** The SQL condition (parameters from `$first`) that selects the stored keys starting with `prefix`. */
function prefixRange(prefix: string, first: number): { where: string; params: string[] } {
  if (prefix === '') return { where: 'TRUE', params: [] }
  const low = encodeKey(prefix)
  const high = prefixSuccessor(low)
  if (high === undefined) return { where: `key >= $${first}`, params: [low] }
  return { where: `key >= $${first} AND key < $${first + 1}`, params: [low, high] }
}

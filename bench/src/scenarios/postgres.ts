// PostgresLayer rows (issue 15): a hit and a getOrSet miss on a stack whose only layer is a
// PostgresLayer, and on a memory layer in front of it. The database is a private PostgreSQL the bench
// starts itself (initdb in a temporary directory, fsync off, loopback TCP), as the tests do; set
// BENCH_POSTGRES_URL to measure another one. A hit is one indexed SELECT; a miss adds an upsert.
import { CacheStack, MemoryLayer, PostgresLayer } from '@cachestack/core'
import pg from 'pg'
import { startPostgres, stopPostgres } from '../../../tools/test-services.ts'
import type { CacheAdapter, Contender } from '../contenders/index.ts'
import { deepEqual, makeValue } from '../value.ts'
import { checkHits } from './hit.ts'
import { inChunks, runOpScenario } from './run-ops.ts'
import type { RunContext, ScenarioResult } from './types.ts'

const KEYS = 1_024
const KEY_NAMES = Array.from({ length: KEYS }, (_, i) => `hit:${i}`)

function postgresContender(
  url: string | undefined,
  unavailable: string | undefined,
  withMemory: boolean,
): Contender {
  return {
    name: withMemory ? 'cachestack (memory + PostgresLayer)' : 'cachestack (PostgresLayer)',
    kind: 'cachestack',
    packages: ['@cachestack/core', 'pg'],
    tiers: ['memory'],
    supportsTags: true,
    unavailable,
    async create(_tier, env, options): Promise<CacheAdapter> {
      const table = withMemory ? 'bench_two_tier' : 'bench_alone'
      const postgres = new PostgresLayer({ connectionString: url!, table })
      await postgres.clear()
      const layers = withMemory ? [new MemoryLayer({ maxItems: options.maxItems }), postgres] : [postgres]
      const cache = new CacheStack(layers, { ttl: env.ttlMs })
      return {
        get: (key) => cache.get(key),
        set: (key, value) => cache.set(key, value),
        getOrSet: (key, factory) => cache.getOrSet(key, factory),
        clear: () => cache.clear(),
        close: () => cache.disconnect(),
      }
    },
  }
}

/**
 * The floor: the same work by hand on a `pg` pool — a prepared `SELECT` + `JSON.parse` per hit, and a
 * `SELECT`, the factory and an upsert per miss — with no freshness metadata, clock or layer around it.
 */
function rawPgContender(url: string | undefined, unavailable: string | undefined): Contender {
  return {
    name: 'raw pg (prepared SELECT + JSON.parse / upsert)',
    kind: 'baseline',
    packages: ['pg'],
    tiers: ['memory'],
    supportsTags: false,
    unavailable,
    async create(): Promise<CacheAdapter> {
      const pool = new pg.Pool({ connectionString: url! })
      await pool.query(
        'CREATE TABLE IF NOT EXISTS bench_raw (key text COLLATE "C" PRIMARY KEY, value text NOT NULL)',
      )
      await pool.query('TRUNCATE bench_raw')
      const get = async (key: string) => {
        const { rows } = await pool.query({
          name: 'bench_raw_get',
          text: 'SELECT value FROM bench_raw WHERE key = $1',
          values: [key],
        })
        return rows.length === 0 ? undefined : JSON.parse(rows[0].value as string)
      }
      const set = async (key: string, value: unknown) => {
        await pool.query({
          name: 'bench_raw_set',
          text: 'INSERT INTO bench_raw (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
          values: [key, JSON.stringify(value)],
        })
      }
      return {
        get,
        set,
        async getOrSet(key, factory) {
          const found = await get(key)
          if (found !== undefined) return found
          const value = await factory()
          await set(key, value)
          return value
        },
        clear: async () => {
          await pool.query('TRUNCATE bench_raw')
        },
        close: () => pool.end(),
      }
    },
  }
}

/** Hit and miss cost of a PostgreSQL layer, alone and behind a memory layer. */
export async function postgresScenarios(ctx: RunContext): Promise<ScenarioResult[]> {
  let url = process.env.BENCH_POSTGRES_URL
  let unavailable: string | undefined
  let owned = false
  if (!url) {
    try {
      url = await startPostgres()
      owned = true
    } catch (error) {
      unavailable = error instanceof Error ? error.message : String(error)
    }
  }
  try {
    const contenders = [
      postgresContender(url, unavailable, false),
      postgresContender(url, unavailable, true),
      rawPgContender(url, unavailable),
    ]
    const hits = await runOpScenario(ctx, {
      tier: 'memory',
      contenders,
      async setup(adapter) {
        await inChunks(KEYS, (i) => adapter.set(KEY_NAMES[i]!, makeValue(i)))
      },
      async check(adapter) {
        return { failures: await checkHits(adapter, 'hit:', [0, 1, 517, KEYS - 1]) }
      },
      variants: [
        {
          id: 'hit-postgres',
          title: 'PostgreSQL hit (~1 KB value; with memory in front the memory layer answers)',
          op: (adapter) => (i) => adapter.get(KEY_NAMES[i & (KEYS - 1)]!),
        },
      ],
    })
    const value = makeValue(7)
    const factory = async () => value
    const misses = await runOpScenario(ctx, {
      tier: 'memory',
      contenders,
      async check(adapter, phase) {
        const key = `miss-check:${phase}`
        const first = await adapter.getOrSet(key, factory)
        const failures = deepEqual(first, value) ? [] : ['getOrSet on a miss returned a wrong value']
        if (!deepEqual(await adapter.get(key), value)) failures.push('get after getOrSet missed')
        return { failures }
      },
      variants: [
        {
          id: 'miss-postgres',
          title: 'getOrSet miss, PostgreSQL (SELECT, factory, upsert)',
          op: (adapter, round) => (i) => adapter.getOrSet(`miss:${round}:${i}`, factory),
          async after(adapter) {
            await adapter.clear()
          },
        },
      ],
    })
    return [...hits, ...misses]
  } finally {
    if (owned) stopPostgres()
  }
}

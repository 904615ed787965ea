// MemcachedLayer rows (issue 15): a hit and a getOrSet miss on a stack whose only layer is a
// MemcachedLayer, on a memory layer in front of it, and raw memjs get / set as the floor. The server is a
// private memcached the bench starts on a free loopback port (as the tests do); set BENCH_MEMCACHED to
// `host:port` to measure another one.
import { createRequire } from 'node:module'
import { CacheStack, MemcachedLayer, MemoryLayer } from '@cachestack/core'
import { startMemcached } from '../../../tools/test-services.ts'
import type { CacheAdapter, Contender } from '../contenders/index.ts'
import { deepEqual, makeValue } from '../value.ts'
import { checkHits } from './hit.ts'
import { inChunks, runOpScenario } from './run-ops.ts'
import type { RunContext, ScenarioResult } from './types.ts'

const KEYS = 1_024

// memjs ships no types; the floor needs these three calls.
interface RawClient {
  get(key: string): Promise<{ value: Buffer | null }>
  set(key: string, value: string, options: { expires: number }): Promise<unknown>
  delete(key: string): Promise<unknown>
  close(): void
}
const memjs = createRequire(import.meta.url)('memjs') as {
  Client: { create(servers: string, options: object): RawClient }
}
const KEY_NAMES = Array.from({ length: KEYS }, (_, i) => `hit:${i}`)

function memcachedContender(
  servers: string | undefined,
  unavailable: string | undefined,
  withMemory: boolean,
): Contender {
  return {
    name: withMemory ? 'cachestack (memory + MemcachedLayer)' : 'cachestack (MemcachedLayer)',
    kind: 'cachestack',
    packages: ['@cachestack/core', 'memjs'],
    tiers: ['memory'],
    supportsTags: true,
    unavailable,
    async create(_tier, env, options): Promise<CacheAdapter> {
      const layer = new MemcachedLayer({ servers: servers!, prefix: `bench:${options.prefix}:` })
      const layers = withMemory ? [new MemoryLayer({ maxItems: options.maxItems }), layer] : [layer]
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

/** The floor: memjs `get` + `JSON.parse`, `set` of `JSON.stringify`, no frame, codec or stack. */
function rawMemjs(servers: string | undefined, unavailable: string | undefined): Contender {
  return {
    name: 'memjs get / set (JSON)',
    kind: 'baseline',
    packages: ['memjs'],
    tiers: ['memory'],
    supportsTags: false,
    unavailable,
    async create(_tier, env, options): Promise<CacheAdapter> {
      const client = memjs.Client.create(servers!, { retries: 1, logger: { log() {} } })
      const prefix = `raw:${options.prefix}:`
      const expires = Math.ceil(env.ttlMs / 1000)
      const written = new Set<string>()
      const get = async (key: string) => {
        const { value } = await client.get(prefix + key)
        return value === null ? undefined : JSON.parse(value.toString('utf8'))
      }
      const set = async (key: string, value: unknown) => {
        written.add(key)
        await client.set(prefix + key, JSON.stringify(value), { expires })
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
        async clear() {
          await Promise.all([...written].map((key) => client.delete(prefix + key)))
          written.clear()
        },
        async close() {
          client.close()
        },
      }
    },
  }
}

/** Hit and miss cost of a memcached layer, alone and behind a memory layer, against raw memjs. */
export async function memcachedScenarios(ctx: RunContext): Promise<ScenarioResult[]> {
  let servers = process.env.BENCH_MEMCACHED
  let unavailable: string | undefined
  let pid: number | undefined
  if (!servers) {
    try {
      const started = await startMemcached()
      servers = `127.0.0.1:${started.port}`
      pid = started.process.pid
    } catch (error) {
      unavailable = error instanceof Error ? error.message : String(error)
    }
  }
  try {
    const contenders = [
      memcachedContender(servers, unavailable, false),
      memcachedContender(servers, unavailable, true),
      rawMemjs(servers, unavailable),
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
          id: 'hit-memcached',
          title: 'memcached hit (~1 KB value; with memory in front the memory layer answers)',
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
          id: 'miss-memcached',
          title: 'getOrSet miss, memcached (get, factory, set)',
          op: (adapter, round) => (i) => adapter.getOrSet(`miss:${round}:${i}`, factory),
          async after(adapter) {
            await adapter.clear()
          },
        },
      ],
    })
    return [...hits, ...misses]
  } finally {
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // Already gone.
      }
    }
  }
}

// DiskLayer rows (issue 15): a hit and a getOrSet miss on a stack whose only layer is a DiskLayer in a
// fresh temporary directory, and on a memory layer in front of it. A disk hit reads and decodes one
// file; a miss also writes one (temporary file + rename). The directory sits on whatever file system
// the OS temp directory is (often tmpfs in containers), so compare rows within one run only.
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CacheStack, DiskLayer, MemoryLayer } from '@cachestack/core'
import type { CacheAdapter, Contender } from '../contenders/index.ts'
import { deepEqual, makeValue } from '../value.ts'
import { checkHits } from './hit.ts'
import { inChunks, runOpScenario } from './run-ops.ts'
import type { RunContext, ScenarioResult } from './types.ts'

const KEYS = 1_024
const KEY_NAMES = Array.from({ length: KEYS }, (_, i) => `hit:${i}`)

function diskContender(withMemory: boolean): Contender {
  return {
    name: withMemory ? 'cachestack (memory + DiskLayer)' : 'cachestack (DiskLayer)',
    kind: 'cachestack',
    packages: ['@cachestack/core'],
    tiers: ['memory'],
    supportsTags: true,
    async create(_tier, env, options): Promise<CacheAdapter> {
      const directory = mkdtempSync(join(tmpdir(), 'cachestack-bench-disk-'))
      const disk = new DiskLayer({ directory, maxFiles: 200_000, maxBytes: '2gb' })
      const layers = withMemory ? [new MemoryLayer({ maxItems: options.maxItems }), disk] : [disk]
      const cache = new CacheStack(layers, { ttl: env.ttlMs })
      return {
        get: (key) => cache.get(key),
        set: (key, value) => cache.set(key, value),
        getOrSet: (key, factory) => cache.getOrSet(key, factory),
        clear: () => cache.clear(),
        async close() {
          await cache.disconnect()
          rmSync(directory, { recursive: true, force: true })
        },
      }
    },
  }
}

/**
 * The floor: raw `node:fs` with the same file discipline (hashed name, JSON, temporary file + rename),
 * no header, checksum, index or stack.
 */
const rawFs: Contender = {
  name: 'node:fs readFile / writeFile + rename',
  kind: 'baseline',
  packages: [],
  tiers: ['memory'],
  supportsTags: false,
  async create(): Promise<CacheAdapter> {
    const directory = mkdtempSync(join(tmpdir(), 'cachestack-bench-rawfs-'))
    const path = (key: string) => join(directory, createHash('sha256').update(key).digest('hex'))
    let n = 0
    const get = async (key: string) => {
      try {
        return JSON.parse(await readFile(path(key), 'utf8'))
      } catch {
        return undefined
      }
    }
    const set = async (key: string, value: unknown) => {
      const temp = join(directory, `tmp-${++n}`)
      await writeFile(temp, JSON.stringify(value), { flag: 'wx' })
      await rename(temp, path(key))
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
        await Promise.all((await readdir(directory)).map((name) => unlink(join(directory, name))))
      },
      async close() {
        rmSync(directory, { recursive: true, force: true })
      },
    }
  },
}

/** Hit and miss cost of a disk layer, alone and behind a memory layer. */
export async function diskScenarios(ctx: RunContext): Promise<ScenarioResult[]> {
  const contenders = [diskContender(false), diskContender(true), rawFs]
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
        id: 'hit-disk',
        title: 'disk hit (~1 KB value; with memory in front the memory layer answers)',
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
        id: 'miss-disk',
        title: 'getOrSet miss, disk (read, factory, atomic file write)',
        op: (adapter, round) => (i) => adapter.getOrSet(`miss:${round}:${i}`, factory),
        async after(adapter) {
          await adapter.clear()
        },
      },
    ],
  })
  return [...hits, ...misses]
}

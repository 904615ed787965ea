import { tracingChannel } from 'node:diagnostics_channel'
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { CacheStack, type CacheStackOptions } from '../cache-stack.ts'
import {
  type CacheSnapshot,
  OPERATION_CHANNEL,
  type OperationContext,
  SnapshotError,
  SnapshotPathError,
  type SnapshotProgress,
  ValidationError,
} from '../index.ts'
import { createManualClock } from '../testing/index.ts'

const START = 1_700_000_000_000
const stacks: CacheStack[] = []
function stack(options: CacheStackOptions = {}): CacheStack {
  const cache = new CacheStack(undefined, options)
  stacks.push(cache)
  return cache
}
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((cache) => cache.disconnect()))
})

let root: string
let base: string
let outside: string
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cachestack-snapshot-'))
  base = join(root, 'base')
  outside = join(root, 'outside')
  await mkdir(base)
  await mkdir(outside)
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('exportState / importState', () => {
  it('keeps values, remaining ttl, stale windows and tags across the round trip', async () => {
    const clock = createManualClock(START)
    const source = stack({ clock })
    await source.set('user:1', { name: 'Ada' }, { ttl: '60s', staleWhileRevalidate: '30s', tags: ['users'] })
    await source.set('config', 'v1', { ttl: '10m' })
    await source.setForever('forever', 42)
    const snapshot = await source.exportState()
    expect(snapshot.entries).toHaveLength(3)

    clock.advance(10_000)
    const target = stack({ clock })
    expect(await target.importState(snapshot)).toEqual({ total: 3, restored: 3, expired: 0, newer: 0 })
    expect(await target.get('user:1')).toEqual({ name: 'Ada' })
    expect(await target.ttl('user:1')).toBe(50_000)
    expect(await target.ttl('forever')).toBe(Number.POSITIVE_INFINITY)
    const seen = await target.inspect('user:1')
    expect(seen?.tags).toEqual(['users'])
    // Past the fresh ttl, the entry is stale but still inside its 30 s stale-while-revalidate window.
    clock.advance(55_000)
    expect(await target.inspect('user:1')).toMatchObject({ isStale: true, foundInLayers: ['memory'] })
    clock.advance(30_000)
    expect(await target.inspect('user:1')).toBeUndefined()
    clock.advance(-30_000)
    // Tags survived: invalidating the tag on the target drops the restored entry.
    await target.invalidateByTag('users')
    expect(await target.get('user:1')).toBeUndefined()
    expect(await target.get('config')).toBe('v1')
  })

  it('does not restore entries past their end, and a tag invalidated after the snapshot still applies', async () => {
    const clock = createManualClock(START)
    const cache = stack({ clock })
    await cache.set('short', 1, { ttl: '5s' })
    await cache.set('tagged', 2, { ttl: '1h', tags: ['t'] })
    await cache.set('plain', 3, { ttl: '1h' })
    const snapshot = await cache.exportState()
    await cache.invalidateByTag('t')
    await cache.delete('plain')
    clock.advance(6_000)
    expect(await cache.importState(snapshot)).toEqual({ total: 3, restored: 1, expired: 2, newer: 0 })
    expect(await cache.get('short')).toBeUndefined()
    expect(await cache.get('tagged')).toBeUndefined()
    expect(await cache.get('plain')).toBe(3)
  })

  it('leaves a newer cached entry alone and moves a namespace to another namespace', async () => {
    const clock = createManualClock(START)
    const cache = stack({ clock })
    const users = cache.namespace('users')
    await users.set('1', 'old', { tags: ['people'] })
    await cache.set('outside', 'not exported')
    const snapshot = await users.exportState()
    expect(snapshot.entries.map((e) => e.key)).toEqual(['1'])
    clock.advance(1)
    await users.set('1', 'new')
    expect(await users.importState(snapshot)).toMatchObject({ restored: 0, newer: 1 })
    expect(await users.get('1')).toBe('new')

    const copy = cache.namespace('copy')
    expect(await copy.importState(snapshot)).toMatchObject({ restored: 1 })
    expect(await cache.get('copy:1')).toBe('old')
    // The tag is scoped to the namespace it was restored into.
    await copy.invalidateByTag('people')
    expect(await cache.get('copy:1')).toBeUndefined()
  })

  it('keeps a cached "not found" and a sliding ttl', async () => {
    const clock = createManualClock(START)
    const source = stack({ clock })
    expect(
      await source.get('gone', () => undefined, { negativeCache: true, negativeTtl: '1m' }),
    ).toBeUndefined()
    await source.set('slides', 'v', { ttl: '10s', slidingTtl: true })
    const target = stack({ clock })
    await target.importState(await source.exportState())
    let calls = 0
    const fetch = () => {
      calls++
      return 'found'
    }
    expect(await target.get('gone', fetch, { negativeCache: true })).toBeUndefined()
    expect(calls).toBe(0)
    clock.advance(8_000)
    expect(await target.get('slides')).toBe('v')
    clock.advance(8_000)
    expect(await target.get('slides')).toBe('v')
  })

  it('refuses a malformed snapshot with a SnapshotError and writes nothing of it', async () => {
    const cache = stack({ clock: createManualClock(START) })
    await cache.set('existing', 'kept')
    const good = {
      key: 'a',
      value: 1,
      createdAt: START,
      freshUntil: START + 1e6,
      swrUntil: START + 1e6,
      graceUntil: START + 1e6,
    }
    const bad: unknown[] = [
      null,
      { format: 'other', version: 1, entries: [] },
      { format: 'cachestack-snapshot', version: 2, entries: [] },
      { format: 'cachestack-snapshot', version: 1, entries: {} },
      {
        format: 'cachestack-snapshot',
        version: 1,
        entries: [good, { ...good, key: 'b', freshUntil: 'soon' }],
      },
      { format: 'cachestack-snapshot', version: 1, entries: [good, { ...good, key: 'b', extra: 1 }] },
      { format: 'cachestack-snapshot', version: 1, entries: [good, { ...good, key: 'b', tags: [1] }] },
      { format: 'cachestack-snapshot', version: 1, entries: [good, { ...good, key: '' }] },
      { format: 'cachestack-snapshot', version: 1, entries: [good, { ...good, key: 'b', swrUntil: START }] },
    ]
    for (const snapshot of bad) {
      const error = await cache.importState(snapshot as CacheSnapshot).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(SnapshotError)
      expect((error as SnapshotError).code).toBe('E_SNAPSHOT_INVALID')
    }
    expect(await cache.get('a')).toBeUndefined()
    expect(await cache.get('existing')).toBe('kept')
  })

  it('reports progress every 1,000 entries and at the end, both ways', async () => {
    const clock = createManualClock(START)
    const cache = stack({ clock })
    await cache.mset(Array.from({ length: 2_500 }, (_, i) => ({ key: `k${i}`, value: i })))
    const exported: SnapshotProgress[] = []
    const snapshot = await cache.exportState({ onProgress: (p) => exported.push(p) })
    expect(exported).toEqual([
      { done: 1_000, total: 2_500 },
      { done: 2_000, total: 2_500 },
      { done: 2_500, total: 2_500 },
    ])
    const imported: SnapshotProgress[] = []
    await stack({ clock }).importState(snapshot, { onProgress: (p) => imported.push(p) })
    expect(imported.map((p) => p.done)).toEqual([1_000, 2_000, 2_500])
    const error = await cache.exportState({ onProgres: () => {} } as never).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).option).toBe('onProgres')
  })
})

describe('persistToFile / restoreFromFile', () => {
  it('round-trips through a file inside the base directory, written atomically with no temp file left', async () => {
    const clock = createManualClock(START)
    const source = stack({ clock, snapshotBaseDir: base })
    await source.set('a', { list: [1, 2] }, { ttl: '1m', tags: ['t'] })
    await mkdir(join(base, 'nested'), { recursive: true })
    expect(await source.persistToFile('nested/snap.json')).toBe(1)
    expect(await source.persistToFile('nested/snap.json')).toBe(1)
    expect(await readdir(join(base, 'nested'))).toEqual(['snap.json'])

    clock.advance(20_000)
    const target = stack({ clock, snapshotBaseDir: base })
    expect(await target.restoreFromFile(join(base, 'nested/snap.json'))).toMatchObject({ restored: 1 })
    expect(await target.get('a')).toEqual({ list: [1, 2] })
    expect(await target.ttl('a')).toBe(40_000)
    expect((await target.inspect('a'))?.tags).toEqual(['t'])
  })

  it('a reader polling the file while it is rewritten always reads a whole snapshot', async () => {
    const cache = stack({ clock: createManualClock(START), snapshotBaseDir: base })
    await cache.mset(
      Array.from({ length: 3_000 }, (_, i) => ({ key: `k${i}`, value: { i, pad: 'x'.repeat(100) } })),
    )
    await cache.persistToFile('busy.json')
    let writing = true
    let reads = 0
    const reader = (async () => {
      while (writing) {
        const text = await readFile(join(base, 'busy.json'), 'utf8')
        expect(JSON.parse(text).entries).toHaveLength(3_000)
        reads++
      }
    })()
    for (let round = 0; round < 5; round++) await cache.persistToFile('busy.json')
    writing = false
    await reader
    expect(reads).toBeGreaterThan(0)
    expect((await readdir(base)).filter((name) => name.includes('busy.json.'))).toEqual([])
  })

  it('refuses a value JSON cannot carry and leaves the previous file whole', async () => {
    const cache = stack({ clock: createManualClock(START), snapshotBaseDir: base })
    await cache.set('n', 1)
    await cache.persistToFile('keep.json')
    const before = await readFile(join(base, 'keep.json'), 'utf8')
    await cache.set('when', new Date(START))
    await expect(cache.persistToFile('keep.json')).rejects.toBeInstanceOf(SnapshotError)
    expect(await readFile(join(base, 'keep.json'), 'utf8')).toBe(before)
    expect((await readdir(base)).filter((name) => name.endsWith('.tmp'))).toEqual([])
  })

  it('refuses paths that leave the base directory: absolute, ../, and symbolic links pointing out', async () => {
    const cache = stack({ snapshotBaseDir: base })
    await cache.set('secret', 'value')
    await writeFile(join(outside, 'victim.json'), 'untouched')
    await symlink(outside, join(base, 'link-dir'))
    await symlink(join(outside, 'victim.json'), join(base, 'link-file.json'))
    const escapes = [
      join(outside, 'snap.json'),
      '/etc/passwd',
      '../outside/snap.json',
      'nested/../../outside/snap.json',
      'link-dir/snap.json',
      'link-file.json',
      base,
      '.',
    ]
    for (const path of escapes) {
      const persisted = await cache.persistToFile(path).catch((e: unknown) => e)
      expect(persisted, path).toBeInstanceOf(SnapshotPathError)
      expect((persisted as SnapshotPathError).code).toBe('E_SNAPSHOT_PATH')
      const restored = await cache.restoreFromFile(path).catch((e: unknown) => e)
      expect(restored, path).toBeInstanceOf(SnapshotPathError)
    }
    expect(await readdir(outside)).toEqual(['victim.json'])
    expect(await readFile(join(outside, 'victim.json'), 'utf8')).toBe('untouched')
    for (const path of ['', 'a\0b', 42]) {
      await expect(cache.persistToFile(path as string)).rejects.toBeInstanceOf(ValidationError)
    }
    expect(() => new CacheStack(undefined, { snapshotBaseDir: '' })).toThrow(ValidationError)
  })

  it('restores a hostile file without polluting any prototype', async () => {
    const cache = stack({ clock: createManualClock(START), snapshotBaseDir: base })
    const times = `"createdAt":${START},"freshUntil":${START + 60_000},"swrUntil":${START + 60_000},"graceUntil":${START + 60_000}`
    const hostile = `{"format":"cachestack-snapshot","version":1,"exportedAt":${START},
      "__proto__":{"polluted":"top"},
      "entries":[
        {"key":"a","value":{"__proto__":{"polluted":"value"},"constructor":{"prototype":{"polluted":"ctor"}},"ok":1},${times},"tags":["t"]},
        {"key":"b","__proto__":{"polluted":"entry"},"value":[{"__proto__":{"polluted":"array"}}],${times}},
        {"key":"__proto__","value":"just a key",${times}}
      ]}`
    await writeFile(join(base, 'hostile.json'), hostile)
    const result = await cache.restoreFromFile('hostile.json')
    expect(result.restored).toBe(3)
    const a = (await cache.get('a')) as Record<string, unknown>
    expect({} as Record<string, unknown>).not.toHaveProperty('polluted')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined()
    expect((Array.prototype as unknown as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.getPrototypeOf(a)).toBe(Object.prototype)
    expect(Object.hasOwn(a, '__proto__')).toBe(false)
    expect(a.ok).toBe(1)
    expect(await cache.get('__proto__')).toBe('just a key')
    // Writing the restored values out and back again changes nothing either.
    await cache.persistToFile('again.json')
    await stack({ snapshotBaseDir: base, clock: createManualClock(START) }).restoreFromFile('again.json')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('a corrupted, truncated or missing file is a SnapshotError and loses nothing already cached', async () => {
    const clock = createManualClock(START)
    const source = stack({ clock, snapshotBaseDir: base })
    await source.mset(Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })))
    await source.persistToFile('full.json')
    const text = await readFile(join(base, 'full.json'), 'utf8')
    await writeFile(join(base, 'truncated.json'), text.slice(0, Math.floor(text.length / 2)))
    await writeFile(join(base, 'garbage.json'), Buffer.from([0xff, 0x00, 0x7b, 0x22]))
    await writeFile(join(base, 'empty.json'), '')

    const target = stack({ clock, snapshotBaseDir: base })
    await target.set('k1', 'mine')
    await target.set('other', 'kept')
    for (const file of ['truncated.json', 'garbage.json', 'empty.json', 'absent.json']) {
      const error = await target.restoreFromFile(file).catch((e: unknown) => e)
      expect(error, file).toBeInstanceOf(SnapshotError)
    }
    expect(await target.get('k1')).toBe('mine')
    expect(await target.get('other')).toBe('kept')
    expect(await target.get('k0')).toBeUndefined()
  })
})

describe('tracing', () => {
  it('publishes warm and every snapshot call on cachestack:operation, failures included', async () => {
    const channel = tracingChannel<unknown, OperationContext>(OPERATION_CHANNEL)
    const ended: string[] = []
    const failed: string[] = []
    const handlers = {
      start: () => {},
      end: () => {},
      asyncStart: () => {},
      asyncEnd: (message: OperationContext) => {
        if (message.operation !== 'get') ended.push(message.operation)
      },
      error: (message: OperationContext) => {
        failed.push(message.operation)
      },
    }
    channel.subscribe(handlers)
    try {
      const cache = stack({ clock: createManualClock(START), snapshotBaseDir: base })
      await cache.warm([{ key: 'a', fetcher: () => 1 }])
      const snapshot = await cache.exportState()
      await cache.importState(snapshot)
      await cache.persistToFile('traced.json')
      await cache.restoreFromFile('traced.json')
      await cache.restoreFromFile('../escape.json').catch(() => {})
      expect(ended).toEqual([
        'warm',
        'exportState',
        'importState',
        'persistToFile',
        'restoreFromFile',
        'restoreFromFile',
      ])
      expect(failed).toEqual(['restoreFromFile'])
    } finally {
      channel.unsubscribe(handlers)
    }
  })
})

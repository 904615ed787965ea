import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { readdir, readFile, stat, truncate, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { CacheStack } from '../cache-stack.ts'
import { LayerError, ValidationError } from '../errors.ts'
import { CorruptedEntryError } from '../internal/serialization.ts'
import { createManualClock, createTestEntry } from '../testing/index.ts'
import { crc32Fallback, entryFileName } from './disk-file.ts'
import { DiskLayer, type DiskLayerOptions } from './disk-layer.ts'
import { MemoryLayer } from './memory-layer.ts'

const root = mkdtempSync(join(tmpdir(), 'cachestack-disk-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
let made = 0

interface Reported {
  error: unknown
  operation: string
  key?: string | undefined
}

/** A layer on a fresh directory (or `directory`), attached to a manual clock that records reports. */
function open(options: Partial<DiskLayerOptions> = {}, clock = createManualClock()) {
  const directory = options.directory ?? join(root, `dir-${++made}`)
  const layer = new DiskLayer({ ...options, directory })
  const reported: Reported[] = []
  layer.attach({ clock, reportError: (error, operation, key) => reported.push({ error, operation, key }) })
  return { layer, clock, reported, directory }
}

const entry = (value: unknown) => createTestEntry(value)
const fileOf = (directory: string, key: string) => join(directory, entryFileName(key))

async function keysOf(layer: DiskLayer, prefix?: string): Promise<string[]> {
  const out: string[] = []
  for await (const key of layer.keys(prefix)) out.push(key)
  return out.sort()
}

describe('DiskLayer options', () => {
  it('refuses a misspelt option, naming it and the likely one', () => {
    const attempt = () => new DiskLayer({ directory: root, maxFile: 10 } as unknown as DiskLayerOptions)
    expect(attempt).toThrow(ValidationError)
    expect(attempt).toThrow(/"maxFile" is not an option of new DiskLayer\(\); did you mean "maxFiles"\?/)
  })

  it.each([
    ['a missing directory', {}, 'directory'],
    ['a directory with a NUL byte', { directory: 'a\0b' }, 'directory'],
    ['maxFiles 0', { directory: root, maxFiles: 0 }, 'maxFiles'],
    ['maxFiles 1.5', { directory: root, maxFiles: 1.5 }, 'maxFiles'],
    ['maxBytes nonsense', { directory: root, maxBytes: 'lots' }, 'maxBytes'],
    [
      'maxEntryBytes over maxBytes',
      { directory: root, maxBytes: '1kb', maxEntryBytes: '2kb' },
      'maxEntryBytes',
    ],
    ['an unknown serializer', { directory: root, serializer: 'xml' }, 'serializer'],
  ])('refuses %s with a ValidationError naming the option', (_label, options, option) => {
    try {
      new DiskLayer(options as DiskLayerOptions)
      expect.unreachable('the constructor accepted it')
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).option).toBe(option)
    }
  })
})

describe('DiskLayer checksum', () => {
  it('computes the same CRC-32 as zlib where Node lacks zlib.crc32', async () => {
    const { crc32 } = await import('node:zlib')
    const samples = [
      Buffer.alloc(0),
      Buffer.from('123456789'),
      Buffer.from('é🚀\0'),
      Buffer.alloc(70_000, 0xa5),
    ]
    for (const sample of samples) expect(crc32Fallback(sample)).toBe(crc32(sample))
    expect(crc32Fallback(Buffer.from('123456789'))).toBe(0xcbf43926)
  })
})

describe('DiskLayer file names', () => {
  const hostile = [
    '../../etc/passwd',
    '../../../../../../tmp/escaped',
    '/etc/shadow',
    'a/b/c',
    '..',
    '.',
    '',
    'nul\0byte',
    '\0',
    'back\\slash\\..\\..',
    'new\nline',
    'k'.repeat(10_000),
    '日本語/🚀',
    // Lone surrogates: UTF-8 would encode both as U+FFFD, so a hash of UTF-8 bytes would give them one file.
    '\uD800',
    '\uDBFF',
  ]

  it('keeps every hostile key inside the directory, under a hashed name, and reads it back', async () => {
    const parent = join(root, `hostile-${++made}`)
    const { layer, directory } = open({ directory: join(parent, 'store') })
    await layer.setMany(hostile.map((key, i) => ({ key, entry: entry(i), ttl: undefined })))
    expect((await layer.getMany(hostile)).map((e) => e?.value)).toEqual(hostile.map((_, i) => i))
    expect(await readdir(parent)).toEqual(['store'])
    const names = await readdir(directory)
    expect(names).toHaveLength(hostile.length)
    for (const name of names) expect(name).toMatch(/^[0-9a-f]{64}$/)
    expect(await keysOf(layer)).toEqual([...hostile].sort())
    await layer.clear()
    expect(await readdir(directory)).toEqual([])
  })

  it('finds hostile keys again after a restart', async () => {
    const { layer, directory } = open()
    await layer.setMany(hostile.map((key, i) => ({ key, entry: entry(i), ttl: undefined })))
    await layer.dispose()
    const { layer: again, reported } = open({ directory })
    expect((await again.getMany(hostile)).map((e) => e?.value)).toEqual(hostile.map((_, i) => i))
    expect(reported).toEqual([])
  })
})

describe('DiskLayer atomic writes', () => {
  it('leaves no temporary file behind', async () => {
    const { layer, directory } = open()
    await Promise.all(Array.from({ length: 200 }, (_, i) => layer.set(`k${i % 20}`, entry(i), undefined)))
    const names = await readdir(directory)
    expect(names.filter((name) => name.endsWith('.tmp'))).toEqual([])
    expect(names).toHaveLength(20)
  })

  it('never lets a concurrent reader see half a file', async () => {
    const { layer, reported } = open()
    const a = { fill: 'a'.repeat(512 * 1024) }
    const b = { fill: 'b'.repeat(512 * 1024) }
    await layer.set('big', entry(a), undefined)
    const seen = new Set<string>()
    const writes = (async () => {
      for (let i = 0; i < 40; i++) await layer.set('big', entry(i % 2 ? a : b), undefined)
    })()
    const reads = Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 40; i++) {
        const value = (await layer.get('big'))?.value as { fill: string } | undefined
        expect(value).toBeDefined()
        seen.add(value!.fill === a.fill ? 'a' : value!.fill === b.fill ? 'b' : 'torn')
      }
    })
    await Promise.all([writes, ...reads])
    expect(seen.has('torn')).toBe(false)
    expect(reported).toEqual([])
  })

  it('removes a temporary file a crashed write left behind when it starts', async () => {
    const { layer, directory } = open()
    await layer.set('kept', entry(1), undefined)
    await layer.dispose()
    const orphan = `${entryFileName('lost')}.0123456789abcdef.tmp`
    await writeFile(join(directory, orphan), 'half a fi')
    const { layer: again } = open({ directory })
    expect((await again.get('kept'))?.value).toBe(1)
    expect(await readdir(directory)).toEqual([entryFileName('kept')])
  })
})

describe('DiskLayer damaged files', () => {
  async function damaged(damage: (path: string) => Promise<void>) {
    const { layer, directory, reported } = open()
    await layer.set('victim', entry({ text: 'x'.repeat(2000) }), undefined)
    await layer.set('bystander', entry('fine'), undefined)
    await damage(fileOf(directory, 'victim'))
    return { layer, directory, reported }
  }

  it.each([
    ['garbage bytes', (path: string) => writeFile(path, 'not a cache file at all')],
    ['a truncated file', (path: string) => truncate(path, 200)],
    ['an empty file', (path: string) => truncate(path, 0)],
    [
      'a flipped payload byte',
      async (path: string) => {
        const data = await readFile(path)
        data[data.length - 10] = data[data.length - 10]! ^ 0x01
        await writeFile(path, data)
      },
    ],
  ])('treats %s as a miss, removes it and reports it once', async (_label, damage) => {
    const { layer, directory, reported } = await damaged(damage)
    // Two readers of the same damaged file: both miss, one report.
    expect(await Promise.all([layer.get('victim'), layer.get('victim')])).toEqual([undefined, undefined])
    await expect(stat(fileOf(directory, 'victim'))).rejects.toMatchObject({ code: 'ENOENT' })
    expect(await layer.has('victim')).toBe(false)
    expect(reported).toHaveLength(1)
    expect(reported[0]).toMatchObject({ operation: 'get', key: 'victim' })
    expect(reported[0]!.error).toBeInstanceOf(CorruptedEntryError)
    expect((await layer.get('bystander'))?.value).toBe('fine')
  })

  it('treats a well-formed file that holds no entry as a miss', async () => {
    const { layer, directory, reported } = await damaged(async (path) => {
      const { crc32 } = await import('node:zlib')
      const payload = Buffer.from('{"not":"an entry"}')
      const header = JSON.stringify({
        v: 1,
        key: 'victim',
        expiresAt: null,
        size: payload.length,
        crc: crc32(payload),
      })
      await writeFile(path, Buffer.concat([Buffer.from(`${header}\n`), payload]))
    })
    expect(await layer.getMany(['victim', 'bystander'])).toMatchObject([undefined, { value: 'fine' }])
    await expect(stat(fileOf(directory, 'victim'))).rejects.toMatchObject({ code: 'ENOENT' })
    expect(reported.map((r) => r.operation)).toEqual(['get'])
  })

  it('drops damaged files found when it starts, and reports them', async () => {
    const { layer, directory } = await damaged((path) => truncate(path, 100))
    await layer.dispose()
    const { layer: again, reported } = open({ directory })
    expect(await keysOf(again)).toEqual(['bystander'])
    expect(reported.map((r) => r.operation)).toEqual(['open'])
    expect(await readdir(directory)).toEqual([entryFileName('bystander')])
  })

  it('reaches the stack as an error event', async () => {
    const clock = createManualClock()
    const directory = join(root, `stack-${++made}`)
    const cache = new CacheStack([new DiskLayer({ directory })], { clock })
    const errors: { error: unknown; operation: string; key?: string | undefined }[] = []
    cache.on('error', (event) => errors.push(event))
    await cache.set('user:1', { name: 'Ada' })
    await truncate(fileOf(directory, 'user:1'), 20)
    expect(await cache.get('user:1')).toBeUndefined()
    expect(errors).toHaveLength(1)
    expect(errors[0]!.error).toBeInstanceOf(CorruptedEntryError)
    await cache.disconnect()
  })
})

describe('DiskLayer bounds', () => {
  it('evicts the least recently used file beyond maxFiles', async () => {
    const { layer, directory } = open({ maxFiles: 3 })
    for (const key of ['a', 'b', 'c']) await layer.set(key, entry(key), undefined)
    await layer.get('a')
    await layer.set('d', entry('d'), undefined)
    expect(await keysOf(layer)).toEqual(['a', 'c', 'd'])
    expect((await readdir(directory)).sort()).toEqual(['a', 'c', 'd'].map(entryFileName).sort())
    expect(layer.fileCount).toBe(3)
  })

  it('evicts the least recently used files beyond maxBytes', async () => {
    const probe = open()
    await probe.layer.set('a', entry('x'.repeat(1000)), undefined)
    const fileBytes = probe.layer.byteCount
    expect(fileBytes).toBe((await stat(fileOf(probe.directory, 'a'))).size)
    const { layer, directory } = open({ maxBytes: fileBytes * 3 + 10 })
    for (const key of ['a', 'b', 'c']) await layer.set(key, entry('x'.repeat(1000)), undefined)
    await layer.get('a')
    await layer.set('d', entry('x'.repeat(1000)), undefined)
    expect(await keysOf(layer)).toEqual(['a', 'c', 'd'])
    expect(layer.byteCount).toBe(fileBytes * 3)
    expect(await readdir(directory)).toHaveLength(3)
    // One write twice the size pushes out two more.
    await layer.set('e', entry('x'.repeat(2100)), undefined)
    expect(await keysOf(layer)).toEqual(['d', 'e'])
    expect(layer.byteCount).toBeLessThanOrEqual(fileBytes * 3 + 10)
  })

  it('refuses an entry over maxEntryBytes with a LayerError and drops the older value', async () => {
    const { layer } = open({ maxEntryBytes: '1kb' })
    await layer.set('k', entry('small'), undefined)
    await expect(layer.set('k', entry('x'.repeat(2000)), undefined)).rejects.toBeInstanceOf(LayerError)
    expect(await layer.get('k')).toBeUndefined()
  })

  it('applies the bounds to what it finds when it starts, oldest file first', async () => {
    const { layer, directory } = open()
    for (const key of ['old', 'mid', 'new']) await layer.set(key, entry(key), undefined)
    await layer.dispose()
    const base = Date.now() / 1000
    await utimes(fileOf(directory, 'old'), base - 300, base - 300)
    await utimes(fileOf(directory, 'mid'), base - 200, base - 200)
    await utimes(fileOf(directory, 'new'), base - 100, base - 100)
    const { layer: again } = open({ directory, maxFiles: 2 })
    expect(await keysOf(again)).toEqual(['mid', 'new'])
    expect(await readdir(directory)).toHaveLength(2)
  })
})

describe('DiskLayer expiry and restart', () => {
  it('prune() removes the files of expired entries only', async () => {
    const { layer, clock, directory } = open()
    await layer.set('short', entry(1), 1_000)
    await layer.set('long', entry(2), 60_000)
    await layer.set('forever', entry(3), undefined)
    expect(await layer.prune()).toBe(0)
    clock.advance(5_000)
    expect(await layer.prune()).toBe(1)
    expect((await readdir(directory)).sort()).toEqual(['long', 'forever'].map(entryFileName).sort())
    expect(await keysOf(layer)).toEqual(['forever', 'long'])
  })

  it('a new layer on the same directory sees the entries, their TTLs and drops the expired', async () => {
    const clock = createManualClock()
    const first = open({}, clock)
    await first.layer.set('user:1', entry({ name: 'Ada' }), 60_000)
    await first.layer.set('user:2', entry({ name: 'Bob' }), 1_000)
    await first.layer.set('config', entry({ on: true }), undefined)
    await first.layer.dispose()
    clock.advance(10_000)
    const second = open({ directory: first.directory }, clock)
    expect((await second.layer.get('user:1'))?.value).toEqual({ name: 'Ada' })
    expect(await second.layer.ttl('user:1')).toBe(50_000)
    expect(await second.layer.get('user:2')).toBeUndefined()
    expect(await second.layer.ttl('config')).toBe(Number.POSITIVE_INFINITY)
    expect(await keysOf(second.layer)).toEqual(['config', 'user:1'])
    expect(await readdir(first.directory)).toHaveLength(2)
    expect(second.reported).toEqual([])
  })

  it('clear(prefix) removes files from the index without reading them', async () => {
    const { layer, directory, reported } = open()
    await layer.set('tenant:a:1', entry(1), undefined)
    await layer.set('tenant:a:2', entry(2), undefined)
    await layer.set('tenant:b:1', entry(3), undefined)
    // A damaged file under the prefix is removed silently: clear never opened it.
    await writeFile(fileOf(directory, 'tenant:a:2'), 'garbage')
    await layer.clear('tenant:a:')
    expect(reported).toEqual([])
    expect(await readdir(directory)).toEqual([entryFileName('tenant:b:1')])
    expect(await keysOf(layer)).toEqual(['tenant:b:1'])
  })
})

describe('DiskLayer behind a memory layer', () => {
  it('survives a restart of the stack, back-fills memory and takes prefix invalidation', async () => {
    const clock = createManualClock()
    const directory = join(root, `two-tier-${++made}`)
    const first = new CacheStack([new MemoryLayer(), new DiskLayer({ directory })], { clock, ttl: '1h' })
    await first.set('tenant:a:user:1', { name: 'Ada' }, { tags: ['users'] })
    await first.set('tenant:b:user:2', { name: 'Bob' })
    await first.disconnect()

    clock.advance(60_000)
    const memory = new MemoryLayer()
    const second = new CacheStack([memory, new DiskLayer({ directory })], { clock, ttl: '1h' })
    expect(await second.get('tenant:a:user:1')).toEqual({ name: 'Ada' })
    // Back-filled with the remaining lifetime, not a fresh hour.
    const filled = memory.get('tenant:a:user:1') as { freshUntil: number } | undefined
    expect(filled?.freshUntil).toBe(Date.UTC(2025, 0, 1) + 3_600_000)
    await second.invalidateByPrefix('tenant:a:')
    expect(await second.get('tenant:a:user:1')).toBeUndefined()
    expect(await readdir(directory)).toEqual([entryFileName('tenant:b:user:2')])
    await second.disconnect()
  })
})

describe('DiskLayer under a burst', () => {
  it('keeps 3,000 concurrent writes and reads within a 100-descriptor limit', () => {
    // A child process, so the limit (`ulimit -n 100`) is its own: without the layer's cap on open files
    // the writes fail with EMFILE.
    const script = join(root, `burst-${++made}.mts`)
    writeFileSync(
      script,
      `import { DiskLayer } from ${JSON.stringify(new URL('./disk-layer.ts', import.meta.url).href)}
const layer = new DiskLayer({ directory: ${JSON.stringify(join(root, `burst-dir-${made}`))} })
const entry = (value) => ({ value, createdAt: 1, freshUntil: 8.64e15, swrUntil: 8.64e15, graceUntil: 8.64e15 })
const keys = Array.from({ length: 3000 }, (_, i) => 'k' + i)
await Promise.all(keys.map((key) => layer.set(key, entry(key.repeat(500)), undefined)))
const read = await Promise.all(keys.map((key) => layer.get(key)))
console.log(read.filter((e, i) => e?.value === keys[i].repeat(500)).length)
`,
    )
    const repoNode = fileURLToPath(new URL('../../../../node_modules/.bin/node', import.meta.url))
    const node = existsSync(repoNode) ? repoNode : process.execPath
    const child = spawnSync('sh', ['-c', 'ulimit -n 100 && exec "$0" "$1"', node, script], {
      encoding: 'utf8',
      timeout: 60_000,
    })
    expect(child.stderr).not.toMatch(/EMFILE/)
    expect(child.stdout.trim()).toBe('3000')
  }, 90_000)
})

describe('DiskLayer as the first layer of a stack', () => {
  it('is read once per hit after the first', async () => {
    class CountingDiskLayer extends DiskLayer {
      reads = 0
      override get(key: string) {
        this.reads++
        return super.get(key)
      }
    }
    const layer = new CountingDiskLayer({ directory: join(root, `counting-${++made}`) })
    const cache = new CacheStack([layer], { clock: createManualClock(), ttl: '1h' })
    await cache.set('k', 'v')
    expect(await cache.get('k')).toBe('v')
    const afterFirst = layer.reads
    for (let i = 0; i < 3; i++) expect(await cache.get('k')).toBe('v')
    expect(layer.reads - afterFirst).toBe(3)
    await cache.disconnect()
  })
})

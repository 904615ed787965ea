import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestRedis, uniquePrefix } from '../../../../tools/test-redis.ts'
import { freePort, startRedis } from '../../../../tools/test-services.ts'
import { CommandTimeoutError, LayerError, RedisUnavailableError, ValidationError } from '../errors.ts'
import { CorruptedEntryError } from '../internal/serialization.ts'
import { systemClock } from '../layer.ts'
import { createTestEntry } from '../testing/index.ts'
import { RedisLayer, type RedisLayerOptions } from './redis-layer.ts'

const raw = createTestRedis()
afterAll(async () => {
  await raw.quit()
})

const entry = (value: unknown) => createTestEntry(value)

function attached(options: Omit<RedisLayerOptions, 'client'> = {}) {
  const prefix = uniquePrefix('redis-failures')
  const layer = new RedisLayer({ client: raw, prefix, ...options })
  const reports: { error: unknown; operation: string; key?: string | undefined }[] = []
  layer.attach({
    clock: systemClock,
    reportError: (error, operation, key) => reports.push({ error, operation, key }),
  })
  return { layer, prefix, reports }
}

describe('RedisLayer with corrupted bytes', () => {
  const garbage: [string, Buffer | string][] = [
    ['random bytes', Buffer.from([0x00, 0x9f, 0x42, 0xff, 0x13])],
    ['truncated JSON', '{"value":1,"createdAt":'],
    ['JSON that is not an entry', '{"value":1}'],
    ['an entry without a value', JSON.stringify({ ...entry(1), value: undefined })],
    ['an unknown header', Buffer.from([0xff, 1, 2, 3])],
    ['a header with an unknown compression', Buffer.from([0xfc, 1, 2, 3])],
    [
      'truncated gzip',
      Buffer.concat([Buffer.of(0xf4), gzipSync(JSON.stringify(entry('x'.repeat(5000)))).subarray(0, 40)]),
    ],
    ['truncated brotli', Buffer.of(0xf9, 0x1b, 0xff, 0x00)],
    ['garbage msgpack', Buffer.of(0xf1, 0xc1, 0xc1)],
    ['a custom payload', Buffer.of(0xf2, 0x7b)],
    ['an empty string', ''],
    [
      'value-last JSON with a broken value',
      '{"createdAt":1,"freshUntil":2,"swrUntil":2,"graceUntil":2,"value":{oops}',
    ],
    ['value-last JSON cut short', '{"createdAt":1,"freshUntil":2,"swrUntil":2,"graceUntil":2,"value":{"a":1'],
    [
      'value-last JSON with a wrong head',
      '{"createdAt":"1","freshUntil":2,"swrUntil":2,"graceUntil":2,"value":1}',
    ],
  ]

  it.each(garbage)('answers a miss, deletes the key and reports %s', async (_label, bytes) => {
    for (const options of [{}, { serializer: 'msgpack' as const, compression: 'gzip' as const }]) {
      const { layer, prefix, reports } = attached(options)
      await raw.set(`${prefix}bad`, bytes)
      await expect(layer.get('bad')).resolves.toBeUndefined()
      expect(await raw.exists(`${prefix}bad`)).toBe(0)
      expect(reports).toHaveLength(1)
      expect(reports[0]).toMatchObject({ operation: 'get', key: 'bad' })
      expect(reports[0]!.error).toBeInstanceOf(CorruptedEntryError)
    }
  })

  it('getMany answers a miss for the corrupted key only', async () => {
    const { layer, prefix, reports } = attached()
    await layer.set('good', entry('fine'), undefined)
    await raw.set(`${prefix}bad`, '{oops')
    expect((await layer.getMany(['good', 'bad', 'good'])).map((e) => e?.value)).toEqual([
      'fine',
      undefined,
      'fine',
    ])
    expect(await raw.exists(`${prefix}bad`)).toBe(0)
    expect(reports.map((r) => [r.operation, r.key])).toEqual([['getMany', 'bad']])
  })

  it('keepUnreadable: a payload it cannot decode is a reported miss, left in place (get and getMany)', async () => {
    const writer = attached({
      serializer: {
        serialize: (e) => Buffer.from(JSON.stringify(e)),
        deserialize: (b) => JSON.parse(`${b}`),
      },
    })
    await writer.layer.set('custom', entry('theirs'), undefined)
    const reader = new RedisLayer({ client: raw, prefix: writer.prefix, keepUnreadable: true })
    const reports: string[] = []
    reader.attach({ clock: systemClock, reportError: (_error, operation) => reports.push(operation) })
    await expect(reader.get('custom')).resolves.toBeUndefined()
    expect(await reader.getMany(['custom'])).toEqual([undefined])
    expect(reports).toHaveLength(2) // getMany reads a binary payload again with get
    expect(await raw.exists(`${writer.prefix}custom`)).toBe(1)
    expect((await writer.layer.get('custom'))?.value).toBe('theirs')
    expect(() => new RedisLayer({ client: raw, keepUnreadable: 'yes' as never })).toThrow(ValidationError)
  })

  it('refuses a decompression bomb as a miss', async () => {
    const { layer, prefix, reports } = attached({ compression: 'gzip', maxDecompressedSize: '1mb' })
    // 16 MB of zeros packs into ~16 kB: far past the 1 MB cap.
    const bomb = gzipSync(Buffer.alloc(16 * 1024 * 1024))
    expect(bomb.length).toBeLessThan(64 * 1024)
    await raw.set(`${prefix}bomb`, Buffer.concat([Buffer.of(0xf4), bomb]))
    await expect(layer.get('bomb')).resolves.toBeUndefined()
    expect(await raw.exists(`${prefix}bomb`)).toBe(0)
    expect(reports).toHaveLength(1)
    const cause = (reports[0]!.error as Error).cause as NodeJS.ErrnoException
    expect(cause.code).toBe('ERR_BUFFER_TOO_LARGE')
  })
})

describe('RedisLayer payloads', () => {
  it('compresses above the threshold only, and any reader decodes it', async () => {
    const { layer, prefix } = attached({ compression: 'gzip', compressionThreshold: '1kb' })
    const big = { text: 'cache '.repeat(2000) }
    await layer.set('big', entry(big), undefined)
    await layer.set('small', entry('tiny'), undefined)
    const stored = (await raw.getBuffer(`${prefix}big`))!
    expect(stored[0]).toBe(0xf4)
    expect(stored.length).toBeLessThan(1000)
    // Plain JSON, no header, the value last (after the times a reader checks first).
    expect(await raw.get(`${prefix}small`)).toMatch(/^\{"createdAt":1,"freshUntil":.*,"value":"tiny"\}$/)
    // A plain-JSON reader sharing the prefix still understands the compressed payload.
    const plain = new RedisLayer({ client: raw, prefix })
    expect((await plain.get('big'))?.value).toEqual(big)
    expect((await plain.getMany(['small', 'big'])).map((e) => e?.value)).toEqual(['tiny', big])
  })

  it('reads entries written value-first (earlier versions) or in any key order', async () => {
    const { layer, prefix, reports } = attached()
    const written = createTestEntry({ id: 7, value: ',"value":' }, { tags: ['t'], namespace: 'a:' })
    await raw.set(`${prefix}old`, JSON.stringify(written))
    const { value, ...head } = written
    await raw.set(`${prefix}shuffled`, JSON.stringify({ tags: head.tags, value, ...head }))
    await raw.set(`${prefix}spaced`, JSON.stringify({ ...head, value }, null, 1))
    expect(await layer.get('old')).toEqual(written)
    expect(await layer.getMany(['shuffled', 'spaced', 'old'])).toEqual([written, written, written])
    expect(reports).toEqual([])
  })

  it('answers an entry the stack refuses by its head without parsing its value', async () => {
    const { layer, prefix, reports } = attached()
    const heads: unknown[] = []
    layer.attach({
      clock: systemClock,
      reportError: (error, operation, key) => reports.push({ error, operation, key }),
      isDead: (head) => {
        heads.push(head)
        return head.tags?.includes('gone') === true
      },
    })
    // The value is not JSON: only a reader that never parses it can answer this entry.
    const head = '{"createdAt":1,"freshUntil":9,"swrUntil":9,"graceUntil":9,"tags":["gone"]'
    await raw.set(`${prefix}dead`, `${head},"value":{not json}`)
    const dead = await layer.get('dead')
    expect(dead).toMatchObject({ createdAt: 1, freshUntil: 9, tags: ['gone'] })
    expect(heads).toHaveLength(1)
    expect(reports).toEqual([])
    expect(await raw.exists(`${prefix}dead`)).toBe(1)
    // Whoever reads the value anyway gets what the bytes say: here, that they are corrupted.
    expect(() => dead!.value).toThrow(CorruptedEntryError)
    // A live entry is read whole; a broken value there is a reported miss, as ever.
    await raw.set(`${prefix}live`, `${head.replace('gone', 'kept')},"value":{not json}`)
    expect(await layer.getMany(['live', 'dead'])).toMatchObject([undefined, { tags: ['gone'] }])
    expect(reports.map((r) => [r.operation, r.key])).toEqual([['getMany', 'live']])
    expect(await raw.exists(`${prefix}live`)).toBe(0)
  })

  it('gives a dead entry read whole the same fields, value and JSON as a live one', async () => {
    const { layer } = attached()
    const written = { ...entry({ id: 7, list: [1, 2] }), tags: ['gone'] }
    await layer.set('dead-whole', written, undefined)
    layer.attach({
      clock: systemClock,
      reportError: () => {},
      isDead: (head) => head.tags?.includes('gone') === true,
    })
    const [first, second] = [await layer.get('dead-whole'), await layer.get('dead-whole')]
    // Each dead head reads its own bytes, once; a frozen one still answers.
    expect(Object.keys(first!).sort()).toEqual(Object.keys(written).sort())
    expect(first!.value).toEqual({ id: 7, list: [1, 2] })
    expect(first!.value).toBe(first!.value)
    expect(second!.value).not.toBe(first!.value)
    expect(JSON.parse(JSON.stringify(second))).toEqual(JSON.parse(JSON.stringify(written)))
    expect({ ...first }).toEqual(written)
    const third = Object.freeze((await layer.get('dead-whole'))!)
    expect(third.value).toEqual({ id: 7, list: [1, 2] })
  })

  it('stores incompressible data as it is', async () => {
    const { layer, prefix } = attached({
      serializer: 'msgpack',
      compression: 'brotli',
      compressionThreshold: 16,
    })
    const noise = new Uint8Array(4096).map(() => Math.floor(Math.random() * 256))
    await layer.set('noise', entry(noise), undefined)
    expect((await raw.getBuffer(`${prefix}noise`))![0]).toBe(0xf1)
    // msgpack hands binary back as a Buffer (a Uint8Array) with the same bytes.
    const back = (await layer.get('noise'))?.value as Uint8Array
    expect(back).toBeInstanceOf(Uint8Array)
    expect(Buffer.from(back).equals(Buffer.from(noise))).toBe(true)
  })

  it('documents what JSON cannot hold and msgpack can', async () => {
    const json = attached().layer
    const msgpack = attached({ serializer: 'msgpack' }).layer
    const date = new Date('2025-01-02T03:04:05.000Z')
    const bytes = Buffer.from('hi')
    for (const layer of [json, msgpack])
      await layer.set('odd', entry({ date, bytes, gone: undefined }), undefined)
    expect((await json.get('odd'))?.value).toEqual({
      date: '2025-01-02T03:04:05.000Z',
      bytes: { type: 'Buffer', data: [104, 105] },
    })
    const back = (await msgpack.get('odd'))?.value as { date: Date; bytes: Uint8Array }
    expect(back.date).toEqual(date)
    expect(Buffer.from(back.bytes).toString()).toBe('hi')
    await expect(json.set('bigint', entry(1n), undefined)).rejects.toBeInstanceOf(LayerError)
  })

  it('refuses a NaN ttl and rounds a sub-millisecond one up', async () => {
    const { layer, prefix } = attached()
    await expect(layer.set('nan', entry(1), Number.NaN)).rejects.toBeInstanceOf(ValidationError)
    await layer.set('tiny', entry(1), 1500.2)
    const pttl = await raw.pttl(`${prefix}tiny`)
    expect(pttl).toBeGreaterThan(1400)
    expect(pttl).toBeLessThanOrEqual(1501)
  })
})

describe('RedisLayer against its own server', () => {
  let server: ChildProcess
  let url: string
  let dir: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cachestack-layer-'))
    const started = await startRedis(dir)
    server = started.process
    url = `redis://127.0.0.1:${started.port}`
  })

  afterAll(() => {
    server.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  it('rejects with a LayerError when Redis does not answer within commandTimeout', async () => {
    const client = new Redis(url)
    const admin = new Redis(url)
    const layer = new RedisLayer({ client, prefix: 'timeout:', commandTimeout: 100 })
    try {
      await layer.set('k', entry(1), undefined)
      await admin.client('PAUSE', 600, 'ALL')
      // The cause shows it gave up (CommandTimeoutError) instead of waiting out the pause: no stopwatch.
      const error = await layer.get('k').catch((e: unknown) => e)
      expect(error).toBeInstanceOf(LayerError)
      expect((error as LayerError).cause).toBeInstanceOf(CommandTimeoutError)
      // Until Redis answers the timed-out command, the next ones fail at once instead of waiting too.
      for (const call of [layer.getMany(['k']), layer.ping(), layer.get('k')]) {
        const failed = await call.catch((e: unknown) => e)
        expect(failed).toBeInstanceOf(LayerError)
        expect((failed as LayerError).cause).toBeInstanceOf(RedisUnavailableError)
      }
      await admin.client('UNPAUSE')
      // Replies on one connection come in order: once this PING is answered, so is the timed-out GET.
      await client.ping()
      expect((await layer.get('k'))?.value).toBe(1)
    } finally {
      await layer.dispose()
      client.disconnect()
      admin.disconnect()
    }
  })

  it('refuses clear() with no prefix at all unless allowUnprefixedClear', async () => {
    const client = new Redis(url)
    try {
      await client.flushdb()
      const bare = new RedisLayer({ client, prefix: '' })
      await bare.set('a:1', entry(1), undefined)
      await bare.set('b:1', entry(1), undefined)
      const error = await bare.clear().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).option).toBe('allowUnprefixedClear')
      await bare.clear('a:')
      expect(await client.dbsize()).toBe(1)
      await new RedisLayer({ client, prefix: '', allowUnprefixedClear: true }).clear()
      expect(await client.dbsize()).toBe(0)
    } finally {
      client.disconnect()
    }
  })

  it('quits a client it created, and only that one', async () => {
    const given = new Redis(url)
    await new RedisLayer({ client: given }).dispose()
    expect(await given.ping()).toBe('PONG')
    given.disconnect()
    const owned = new RedisLayer({ url })
    await owned.ping()
    await owned.dispose()
    await expect(owned.client.ping()).rejects.toThrow(/closed/)
  })

  it('turns a refused connection into a LayerError', async () => {
    const port = await freePort()
    const layer = new RedisLayer({
      redisOptions: { port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null },
    })
    try {
      await expect(layer.get('k')).rejects.toBeInstanceOf(LayerError)
      await expect(layer.set('k', entry(1), 10)).rejects.toBeInstanceOf(LayerError)
    } finally {
      await layer.dispose()
    }
  })
})

describe('RedisLayer options', () => {
  it.each([
    [{}, 'client'],
    [{ client: raw, url: 'redis://127.0.0.1:1' }, 'client'],
    [{ client: {} }, 'client'],
    [{ url: '' }, 'url'],
    [{ cluster: { nodes: [] } }, 'cluster.nodes'],
    [{ client: raw, name: '' }, 'name'],
    [{ client: raw, prefix: 1 }, 'prefix'],
    [{ client: raw, serializer: 'yaml' }, 'serializer'],
    [{ client: raw, serializer: { serialize: () => '' } }, 'serializer'],
    [{ client: raw, compression: 'zstd' }, 'compression'],
    [{ client: raw, compressionThreshold: 'lots' }, 'compressionThreshold'],
    [{ client: raw, maxDecompressedSize: -1 }, 'maxDecompressedSize'],
    [{ client: raw, maxDecompressedSize: 0 }, 'maxDecompressedSize'],
    [{ client: raw, commandTimeout: 'soon' }, 'commandTimeout'],
    [{ client: raw, commandTimeout: 0 }, 'commandTimeout'],
    [{ client: raw, allowUnprefixedClear: 'yes' }, 'allowUnprefixedClear'],
  ])('throws a ValidationError for %o naming %s', (options, option) => {
    let error: unknown
    try {
      new RedisLayer(options as RedisLayerOptions)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ValidationError)
    expect(error).toBeInstanceOf(TypeError)
    expect((error as ValidationError).option).toBe(option)
  })
})

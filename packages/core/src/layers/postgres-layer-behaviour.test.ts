import { execFileSync } from 'node:child_process'
import { createServer, type Server, type Socket } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { eventually } from '../distributed/test-fixtures/helpers.ts'
import { LayerError, ValidationError } from '../errors.ts'
import type { CacheLayer, LayerContext } from '../layer.ts'
import { createManualClock, createTestEntry } from '../testing/layer-contract.ts'
import { decodeKey, encodeKey, prefixSuccessor } from './postgres-keys.ts'
import { PostgresLayer, PostgresTimeoutError } from './postgres-layer.ts'

const url = process.env.CACHESTACK_TEST_POSTGRES_URL!
const table = 'behaviour_entries'
let admin: pg.Pool
const layers: CacheLayer[] = []

function attached(options: Partial<ConstructorParameters<typeof PostgresLayer>[0]> = {}) {
  const clock = createManualClock()
  const reported: { error: unknown; operation: string; key?: string | undefined }[] = []
  const context: LayerContext = {
    clock,
    reportError: (error, operation, key) => reported.push({ error, operation, key }),
  }
  const layer = new PostgresLayer({ connectionString: url, table, ...options })
  layer.attach(context)
  layers.push(layer)
  return { layer, clock, reported }
}

beforeAll(() => {
  admin = new pg.Pool({ connectionString: url })
})
afterEach(async () => {
  await Promise.all(layers.splice(0).map((layer) => layer.dispose()))
  await admin.query(`DROP TABLE IF EXISTS ${table}`)
})
afterAll(() => admin.end())

describe('PostgresLayer storage', () => {
  it('creates its table on first use, with the key in the "C" collation', async () => {
    const { layer } = attached()
    await layer.set('a', createTestEntry(1), undefined)
    const { rows } = await admin.query(
      `SELECT column_name, collation_name, data_type FROM information_schema.columns
       WHERE table_name = $1 ORDER BY ordinal_position`,
      [table],
    )
    expect(rows).toEqual([
      { column_name: 'key', collation_name: 'C', data_type: 'text' },
      { column_name: 'value', collation_name: null, data_type: 'bytea' },
      { column_name: 'expires_at', collation_name: null, data_type: 'bigint' },
    ])
  })

  it('creates the table again when it was dropped behind its back', async () => {
    const { layer } = attached()
    await layer.set('a', createTestEntry(1), undefined)
    await admin.query(`DROP TABLE ${table}`)
    expect(await layer.get('a')).toBeUndefined()
    await layer.set('a', createTestEntry(2), undefined)
    expect((await layer.get('a'))?.value).toBe(2)
  })

  it('upserts: a second write replaces the row, value and expiry', async () => {
    const { layer, clock } = attached()
    await layer.set('k', createTestEntry('one'), 1000)
    await layer.set('k', createTestEntry('two'), 5000)
    const { rows } = await admin.query(`SELECT key, expires_at FROM ${table}`)
    expect(rows).toEqual([{ key: 'k', expires_at: String(clock.now() + 5000) }])
    expect((await layer.get('k'))?.value).toBe('two')
  })

  it('honours the expiry column on read even before prune() removes the row', async () => {
    const { layer, clock } = attached()
    await layer.set('k', createTestEntry('v'), 1000)
    clock.advance(999)
    expect((await layer.get('k'))?.value).toBe('v')
    expect(await layer.ttl('k')).toBe(1)
    clock.advance(1)
    expect(await layer.get('k')).toBeUndefined()
    expect(await layer.getMany(['k'])).toEqual([undefined])
    expect(await layer.has('k')).toBe(false)
    expect(await layer.delete('k')).toBe(false)
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM ${table}`)
    // delete() removed the expired row but did not count it as a live key.
    expect(rows[0].n).toBe(0)
  })

  it('prune() deletes expired rows in batches and keeps the live ones', async () => {
    const { layer, clock } = attached({ pruneBatchSize: 7 })
    const expiring = Array.from({ length: 30 }, (_, i) => ({
      key: `old:${i}`,
      entry: createTestEntry(i),
      ttl: 100,
    }))
    const live = Array.from({ length: 5 }, (_, i) => ({
      key: `new:${i}`,
      entry: createTestEntry(i),
      ttl: undefined,
    }))
    await layer.setMany([...expiring, ...live])
    clock.advance(100)
    const statements: string[] = []
    const query = layer.pool.query.bind(layer.pool)
    layer.pool.query = ((config: string | { text: string }, params?: unknown[]) => {
      statements.push(typeof config === 'string' ? config : config.text)
      return query(config as never, params)
    }) as typeof layer.pool.query
    expect(await layer.prune()).toBe(30)
    // 30 rows at 7 per statement: 4 full batches, then one with 2 rows that ends the loop.
    expect(statements.filter((text) => text.includes('DELETE'))).toHaveLength(5)
    const { rows } = await admin.query(`SELECT key FROM ${table} ORDER BY key`)
    expect(rows.map((row) => row.key)).toEqual(live.map(({ key }) => key))
    expect(await layer.prune()).toBe(0)
  })

  it('getMany is one query however many keys it asks for', async () => {
    const { layer } = attached()
    const keys = Array.from({ length: 200 }, (_, i) => `many:${i}`)
    await layer.setMany(keys.map((key, i) => ({ key, entry: createTestEntry(i), ttl: undefined })))
    let count = 0
    const query = layer.pool.query.bind(layer.pool)
    layer.pool.query = ((config: string | { text: string }, params?: unknown[]) => {
      count++
      return query(config as never, params)
    }) as typeof layer.pool.query
    const found = await layer.getMany([...keys, 'absent'])
    expect(found.map((entry) => entry?.value)).toEqual([...keys.map((_, i) => i), undefined])
    expect(count).toBe(1)
  })

  it('prefix invalidation is a range scan on the key index', async () => {
    const { layer } = attached()
    const rows = Array.from({ length: 2000 }, (_, i) => ({
      key: `user:${i % 20}:${i}`,
      entry: createTestEntry(i),
      ttl: undefined,
    }))
    await layer.setMany(rows)
    await admin.query(`ANALYZE ${table}`)
    const plan = await admin.query(`EXPLAIN DELETE FROM ${table} WHERE key >= $1 AND key < $2`, [
      'user:7:',
      prefixSuccessor('user:7:'),
    ])
    const text = plan.rows.map((row) => row['QUERY PLAN']).join('\n')
    expect(text).toMatch(/Index (Only )?Scan|Bitmap Index Scan/)
    await layer.clear('user:7:')
    const left = await admin.query(`SELECT count(*)::int AS n FROM ${table} WHERE key LIKE 'user:7:%'`)
    expect(left.rows[0].n).toBe(0)
    const others = await admin.query(`SELECT count(*)::int AS n FROM ${table}`)
    expect(others.rows[0].n).toBe(1900)
  })
})

describe('PostgresLayer keys', () => {
  const hostile = [
    "it's",
    'a"b',
    "'; DROP TABLE behaviour_entries; --",
    'nul\u0000inside',
    '\u0000',
    'escape\u0001char',
    '\u0001\u0002\u0000\u0001',
    '%_\\',
    '日本語🚀',
    'lone\ud800surrogate',
    '\udfff',
    'k'.repeat(1500),
  ]

  it.each(hostile.map((key) => [JSON.stringify(key).slice(0, 40), key]))(
    'stores %s and lists it back unchanged',
    async (_label, key) => {
      const { layer } = attached()
      await layer.set(key, createTestEntry(key), undefined)
      expect((await layer.get(key))?.value).toBe(key)
      expect((await layer.getMany([key]))[0]?.value).toBe(key)
      const listed: string[] = []
      for await (const k of layer.keys()) listed.push(k)
      expect(listed).toEqual([key])
      expect(await layer.delete(key)).toBe(true)
    },
  )

  it('keeps NUL keys apart from their look-alikes, in prefix scans too', async () => {
    const { layer } = attached()
    const keys = ['a\u0000', 'a\u0001', 'a\u0001\u0002', 'a\u0002', 'a']
    await layer.setMany(keys.map((key, i) => ({ key, entry: createTestEntry(i), ttl: undefined })))
    expect((await layer.getMany(keys)).map((entry) => entry?.value)).toEqual([0, 1, 2, 3, 4])
    const under: string[] = []
    for await (const k of layer.keys('a\u0001')) under.push(k)
    expect(under.sort()).toEqual(['a\u0001', 'a\u0001\u0002'])
    await layer.clear('a\u0000')
    expect((await layer.getMany(keys)).map((entry) => entry?.value)).toEqual([undefined, 1, 2, 3, 4])
  })

  it('keeps a lone surrogate apart from U+FFFD, which pg would turn it into', async () => {
    const { layer } = attached()
    await layer.set('a\ufffd', createTestEntry('replacement'), undefined)
    expect(await layer.get('a\ud800')).toBeUndefined()
    await layer.set('a\ud800', createTestEntry('lone'), undefined)
    expect((await layer.getMany(['a\ufffd', 'a\ud800'])).map((entry) => entry?.value)).toEqual([
      'replacement',
      'lone',
    ])
  })

  it('encodes keys so that prefixes stay prefixes', () => {
    for (const key of [
      '',
      'plain',
      '\u0000',
      '\u0001',
      '\u0001\u0000\u0001',
      'x\u0000y\u0001z',
      '\ud800\u0001\udc00z',
    ]) {
      expect(decodeKey(encodeKey(key))).toBe(key)
      expect(encodeKey(key)).not.toContain('\u0000')
    }
    expect(encodeKey('plain')).toBe('plain')
    expect(prefixSuccessor('ab')).toBe('ac')
    expect(prefixSuccessor('a\u{10ffff}')).toBe('b')
    expect(prefixSuccessor('\u{10ffff}')).toBeUndefined()
    expect(prefixSuccessor('a\ud7ff')).toBe('a\ue000')
  })

  it('refuses a key too long for the index with a ValidationError, and reads it as a miss', async () => {
    const { layer } = attached()
    const key = 'k'.repeat(10_000)
    await expect(layer.set(key, createTestEntry(1), undefined)).rejects.toBeInstanceOf(ValidationError)
    expect(await layer.get(key)).toBeUndefined()
  })

  it('treats a corrupted row as a miss: reported and deleted', async () => {
    const { layer, reported } = attached()
    await layer.set('bad', createTestEntry('fine'), undefined)
    await layer.set('good', createTestEntry('fine'), undefined)
    for (const garbage of ['\\x00ff13', '\\x7b226e6f74223a317d', '\\x7b7b7b']) {
      await admin.query(`UPDATE ${table} SET value = $1::bytea WHERE key = 'bad'`, [garbage])
      expect(await layer.getMany(['bad', 'good'])).toEqual([
        undefined,
        expect.objectContaining({ value: 'fine' }),
      ])
      await layer.set('bad', createTestEntry('fine'), undefined)
      await admin.query(`UPDATE ${table} SET value = $1::bytea WHERE key = 'bad'`, [garbage])
      expect(await layer.get('bad')).toBeUndefined()
      const { rows } = await admin.query(`SELECT key FROM ${table} WHERE key = 'bad'`)
      expect(rows).toEqual([])
      await layer.set('bad', createTestEntry('fine'), undefined)
    }
    expect(reported.map(({ operation, key }) => [operation, key])).toEqual([
      ['getMany', 'bad'],
      ['get', 'bad'],
      ['getMany', 'bad'],
      ['get', 'bad'],
      ['getMany', 'bad'],
      ['get', 'bad'],
    ])
  })
})

describe('PostgresLayer options', () => {
  it.each([
    ['x; DROP TABLE users'],
    ['"quoted"'],
    ['Upper'],
    ['a.b.c'],
    ['1starts_with_digit'],
    ['x'.repeat(49)],
    [''],
  ])('refuses the table name %j with a ValidationError', (name) => {
    expect(() => new PostgresLayer({ connectionString: url, table: name })).toThrow(
      expect.objectContaining({ name: 'ValidationError', option: 'table' }),
    )
  })

  it('names a misspelt option and suggests the right one', () => {
    expect(() => new PostgresLayer({ connectionString: url, tabel: 'x' } as never)).toThrow(
      /"tabel".*"table"/,
    )
  })

  it('wants exactly one of pool and connectionString', () => {
    expect(() => new PostgresLayer({})).toThrow(ValidationError)
    const pool = new pg.Pool({ connectionString: url })
    expect(() => new PostgresLayer({ pool, connectionString: url })).toThrow(ValidationError)
    return pool.end()
  })

  it('uses a given pool, and leaves it open on dispose', async () => {
    const pool = new pg.Pool({ connectionString: url })
    const layer = new PostgresLayer({ pool, table: 'schema_given' })
    await layer.set('k', createTestEntry('v'), undefined)
    await layer.dispose()
    expect((await pool.query('SELECT count(*)::int AS n FROM schema_given')).rows[0].n).toBe(1)
    await pool.query('DROP TABLE schema_given')
    await pool.end()
  })
})

describe('PostgresLayer when PostgreSQL is away', () => {
  let silent: Server
  let silentPort = 0
  const sockets: Socket[] = []

  beforeAll(async () => {
    // Accepts connections and never answers: a PostgreSQL that hangs.
    silent = createServer((socket) => sockets.push(socket))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    silentPort = (silent.address() as { port: number }).port
  })
  afterAll(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => silent.close(resolve))
  })

  it('a server that never answers fails each call within queryTimeout', async () => {
    const layer = new PostgresLayer({
      connectionString: `postgres://x@127.0.0.1:${silentPort}/db`,
      queryTimeout: 150,
    })
    const failure = await layer.get('k').catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(LayerError)
    await expect(layer.ping()).rejects.toBeInstanceOf(LayerError)
    await layer.dispose()
  })

  it('a given pool without timeouts of its own is still bounded', async () => {
    const pool = new pg.Pool({ connectionString: `postgres://x@127.0.0.1:${silentPort}/db` })
    pool.on('error', () => {})
    const layer = new PostgresLayer({ pool, queryTimeout: 150 })
    const failure = (await layer.get('k').catch((error: unknown) => error)) as LayerError
    expect(failure).toBeInstanceOf(LayerError)
    expect(failure.cause).toBeInstanceOf(PostgresTimeoutError)
    await layer.dispose()
    for (const socket of sockets) socket.destroy()
    await pool.end()
  })

  it('a table locked by someone else fails a read within queryTimeout instead of waiting', async () => {
    const { layer } = attached({ queryTimeout: 200 })
    // Connecting, creating the table and writing are each bounded by the same 200ms, which a loaded
    // machine can overrun: those steps are retried until they go through; the locked read is not.
    await eventually(() => layer.set('k', createTestEntry('v'), undefined))
    const locker = await admin.connect()
    try {
      await locker.query('BEGIN')
      await locker.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`)
      await expect(layer.get('k')).rejects.toBeInstanceOf(LayerError)
    } finally {
      await locker.query('ROLLBACK')
      locker.release()
    }
    await eventually(async () => expect((await layer.get('k'))?.value).toBe('v'))
  })

  it('a refused connection is a LayerError', async () => {
    const layer = new PostgresLayer({ connectionString: 'postgres://x@127.0.0.1:1/db', queryTimeout: 500 })
    await expect(layer.set('k', createTestEntry(1), undefined)).rejects.toBeInstanceOf(LayerError)
    await layer.dispose()
  })
})

describe('pg is loaded only by apps that use PostgresLayer', () => {
  it('importing @cachestack/core loads no pg file', () => {
    const src = dirname(dirname(fileURLToPath(import.meta.url)))
    const child = `
      import { registerHooks } from 'node:module'
      const loaded = []
      registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context) } })
      const core = await import(${JSON.stringify(join(src, 'index.ts'))})
      if (typeof core.PostgresLayer !== 'function') throw new Error('not exported')
      const before = loaded.filter((u) => u.includes('/node_modules/pg/')).length
      new core.PostgresLayer({ connectionString: 'postgres://x@127.0.0.1:1/db' }).dispose()
      const after = loaded.filter((u) => u.includes('/node_modules/pg/')).length
      console.log(JSON.stringify([before, after]))
    `
    const out = execFileSync(process.execPath, ['--input-type=module', '--eval', child], {
      cwd: src,
      encoding: 'utf8',
    })
    const [before, after] = JSON.parse(out.trim().split('\n').at(-1)!) as [number, number]
    expect(before).toBe(0)
    expect(after).toBeGreaterThan(0)
  })
})

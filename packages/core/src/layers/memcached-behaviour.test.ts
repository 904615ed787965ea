import { connect, createServer, type Server, type Socket } from 'node:net'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { memcachedPrefix, testMemcached } from '../../../../tools/test-memcached.ts'
import { freePort } from '../../../../tools/test-services.ts'
import { CacheStack } from '../cache-stack.ts'
import { CommandTimeoutError, ItemTooLargeError, LayerError, ValidationError } from '../errors.ts'
import { MemoryLayer } from '../index.ts'
import { type MemjsClient, memjs } from '../internal/memjs.ts'
import { createManualClock, createTestEntry } from '../testing/index.ts'
import { MemcachedLayer } from './memcached-layer.ts'
import { storedKey, toExptime } from './memcached-wire.ts'

const raw: MemjsClient = memjs().Client.create(testMemcached(), { retries: 1, logger: { log() {} } })
const layers: MemcachedLayer[] = []
const stacks: CacheStack[] = []

function layer(options: Partial<ConstructorParameters<typeof MemcachedLayer>[0]> = {}): MemcachedLayer {
  const created = new MemcachedLayer({ servers: testMemcached(), prefix: memcachedPrefix('mc'), ...options })
  layers.push(created)
  return created
}

afterEach(async () => {
  await Promise.all(stacks.splice(0).map((cache) => cache.disconnect()))
  await Promise.all(layers.splice(0).map((l) => l.dispose()))
})
afterAll(() => raw.close())

describe('MemcachedLayer in a CacheStack (memory + memcached)', () => {
  function twoTier(prefix: string, clock = createManualClock(Date.now())) {
    const memory = new MemoryLayer()
    const memcached = layer({ prefix })
    const cache = new CacheStack([memory, memcached], { clock })
    stacks.push(cache)
    return { cache, memory, memcached, clock }
  }

  it('writes through, and another instance back-fills memory with the remaining ttl', async () => {
    const prefix = memcachedPrefix('backfill')
    const clock = createManualClock(Date.now())
    const writer = twoTier(prefix, clock)
    await writer.cache.set('user:1', { name: 'Ada' }, { ttl: '60s' })
    expect((await raw.get(`${prefix}user:1`)).value).not.toBeNull()

    clock.advance(20_000)
    const reader = twoTier(prefix, clock)
    const backfills: string[] = []
    reader.cache.on('backfill', ({ fromLayer, toLayer }) => backfills.push(`${fromLayer}->${toLayer}`))
    expect(await reader.cache.get('user:1')).toEqual({ name: 'Ada' })
    expect(backfills).toEqual(['memcached->memory'])
    const remaining = await reader.memory.ttl('user:1')
    expect(remaining).toBeGreaterThan(39_000)
    expect(remaining).toBeLessThanOrEqual(40_000)
    expect((await reader.cache.inspect('user:1'))?.foundInLayers).toEqual(['memory', 'memcached'])
  })

  it('delete, getMany and getOrSet go through both layers', async () => {
    const prefix = memcachedPrefix('stack')
    const a = twoTier(prefix)
    await a.cache.mset<unknown>([
      { key: 'k1', value: 1 },
      { key: 'k2', value: 'two' },
    ])
    const b = twoTier(prefix)
    expect(await b.cache.getMany(['k2', 'nope', 'k1'])).toEqual(['two', undefined, 1])
    await a.cache.delete('k1')
    expect(await a.memcached.get('k1')).toBeUndefined()
    let calls = 0
    const factory = async () => ++calls
    expect(await twoTier(prefix).cache.getOrSet('k3', factory)).toBe(1)
    expect(await twoTier(prefix).cache.getOrSet('k3', factory)).toBe(1)
    expect(calls).toBe(1)
  })

  it('invalidateByPrefix reaches memcached, leaving other keys alone', async () => {
    const prefix = memcachedPrefix('by-prefix')
    const a = twoTier(prefix)
    await a.cache.mset([
      { key: 'user:1', value: 1 },
      { key: 'user:2', value: 2 },
      { key: 'order:1', value: 3 },
    ])
    await a.cache.invalidateByPrefix('user:')
    const b = twoTier(prefix)
    expect(await b.cache.getMany(['user:1', 'user:2', 'order:1'])).toEqual([undefined, undefined, 3])
  })
})

describe('MemcachedLayer TTLs', () => {
  it('sends expiries over 30 days as absolute unix time, shorter ones as seconds rounded up plus one', () => {
    const now = Date.UTC(2026, 0, 1)
    expect(toExptime(undefined, now)).toBe(0)
    expect(toExptime(Number.POSITIVE_INFINITY, now)).toBe(0)
    expect(toExptime(1, now)).toBe(2)
    expect(toExptime(1500, now)).toBe(3)
    expect(toExptime(30 * 86_400_000 - 1000, now)).toBe(30 * 86_400)
    expect(toExptime(30 * 86_400_000, now)).toBe(now / 1000 + 30 * 86_400 + 1)
    expect(toExptime(365 * 86_400_000, now)).toBe(now / 1000 + 365 * 86_400 + 1)
  })

  it.each([
    ['31 days', 31],
    ['a year', 365],
  ])('keeps an entry with a TTL of %s on the real server', async (_label, days) => {
    const writer = layer()
    const ttl = days * 86_400_000
    await writer.set('long', createTestEntry('kept'), ttl)
    // Read back through the raw client too: a relative expiry past 30 days would be a date in 1970,
    // and memcached would drop the item at once.
    expect((await raw.get(storedKey(writer.prefix, 'long'))).value).not.toBeNull()
    expect((await writer.get('long'))?.value).toBe('kept')
    expect(await writer.ttl('long')).toBeGreaterThan(ttl - 60_000)
  })

  it('the server holds each item until its rounded-up expiry (read back from the LRU crawler)', async () => {
    const writer = layer()
    // Bracketed by clocks read before and after the writes, not by one reading taken after them: on a
    // loaded machine a second can pass between a write and the next line.
    const serverBefore = await serverTime()
    const wallBefore = Math.floor(Date.now() / 1000)
    await writer.set('short', createTestEntry('v'), 1500)
    await writer.set('month', createTestEntry('v'), 31 * 86_400_000)
    await writer.set('forever', createTestEntry('v'), undefined)
    const serverAfter = await serverTime()
    const wallAfter = Math.floor(Date.now() / 1000)
    const exp = await serverExpiries()
    expect(exp.get(storedKey(writer.prefix, 'forever'))).toBe(-1)
    // 1.5 s is sent as 3 s, counted on the server's clock: memcached counts whole seconds, and may not
    // drop it before the layer would.
    const short = exp.get(storedKey(writer.prefix, 'short'))!
    expect(short).toBeGreaterThanOrEqual(serverBefore + 3)
    expect(short).toBeLessThanOrEqual(serverAfter + 3)
    // Past 30 days the expiry is an absolute time, taken from the writer's wall clock.
    const month = exp.get(storedKey(writer.prefix, 'month'))!
    expect(month).toBeGreaterThanOrEqual(wallBefore + 31 * 86_400 + 1)
    expect(month).toBeLessThanOrEqual(wallAfter + 31 * 86_400 + 1)
  })

  it('a default expiry in memjsOptions does not cut short an entry written to last forever', async () => {
    const writer = layer({ memjsOptions: { expires: 60 } })
    await writer.set('forever', createTestEntry('v'), undefined)
    expect((await serverExpiries()).get(storedKey(writer.prefix, 'forever'))).toBe(-1)
  })
})

/** Every key's `exp` (absolute unix seconds, -1 for never) as the server's LRU crawler reports it. */
async function serverExpiries(): Promise<Map<string, number>> {
  const text = await ask('lru_crawler metadump all')
  const out = new Map<string, number>()
  for (const match of text.matchAll(/^key=(\S+) exp=(-?\d+)/gm)) {
    out.set(decodeURIComponent(match[1]!), Number(match[2]))
  }
  return out
}

/** The server's own clock (whole unix seconds), which relative expiries are counted on. */
async function serverTime(): Promise<number> {
  const time = /^STAT time (\d+)\r$/m.exec(await ask('stats'))
  if (!time) throw new Error('memcached stats has no time')
  return Number(time[1])
}

/** Sends one text-protocol command and returns its answer up to `END` (asking again while the crawler is busy). */
async function ask(command: string): Promise<string> {
  const [host, port] = testMemcached().split(':')
  const socket = connect({ host: host!, port: Number(port) })
  let text = ''
  await new Promise<void>((resolve, reject) => {
    socket.on('connect', () => socket.write(`${command}\r\n`))
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1')
      if (text.endsWith('END\r\n')) resolve()
      if (text.startsWith('BUSY')) {
        text = ''
        setTimeout(() => socket.write(`${command}\r\n`), 20)
      }
    })
    socket.on('error', reject)
  })
  socket.destroy()
  return text
}

describe('MemcachedLayer keys', () => {
  const hostile = [
    ['a key of 300 bytes', 'k'.repeat(300)],
    ['a key with spaces', 'user name with spaces'],
    ['a key with control characters', 'a\r\nset injected 0 0 1\r\nx\u0000\u0007'],
    ['a non-ASCII key', 'clé:日本語:🚀'],
    ['a key that looks hashed', '#abc'],
    ['a 10 kB key', 'x'.repeat(10_000)],
  ]

  it.each(hostile)('stores %s under a hashed name, readable and listed as written', async (_label, key) => {
    const mc = layer()
    const prefix = mc.prefix
    await mc.set(key!, createTestEntry({ key }), undefined)
    const stored = storedKey(prefix, key!)
    expect(stored).toMatch(/^test:.*#[A-Za-z0-9_-]{43}$/)
    expect(Buffer.byteLength(stored)).toBeLessThanOrEqual(250)
    expect((await raw.get(stored)).value).not.toBeNull()
    expect((await mc.get(key!))?.value).toEqual({ key })
    expect(await mc.getMany([key!, 'other'])).toEqual([
      expect.objectContaining({ value: { key } }),
      undefined,
    ])
    const listed: string[] = []
    for await (const k of mc.keys()) listed.push(k)
    expect(listed).toEqual([key])
    expect(await mc.delete(key!)).toBe(true)
    expect(await mc.get(key!)).toBeUndefined()
  })

  it('keeps a short printable key as it is (readable by other memcached clients)', async () => {
    const mc = layer()
    await mc.set('user:1', createTestEntry(1), undefined)
    expect((await raw.get(`${mc.prefix}user:1`)).value).not.toBeNull()
  })

  it('clear(prefix) finds hashed keys by the key they stand for', async () => {
    const mc = layer()
    const long = `user:${'x'.repeat(300)}`
    await mc.setMany([
      { key: long, entry: createTestEntry(1), ttl: undefined },
      { key: 'user:with space', entry: createTestEntry(2), ttl: undefined },
      { key: 'order:with space', entry: createTestEntry(3), ttl: undefined },
    ])
    await mc.clear('user:')
    expect((await mc.getMany([long, 'user:with space', 'order:with space'])).map((e) => e?.value)).toEqual([
      undefined,
      undefined,
      3,
    ])
  })
})

describe('MemcachedLayer failures', () => {
  it('refuses a value over the server item size with a typed error (memcached drops the old value)', async () => {
    const mc = layer()
    await mc.set('big', createTestEntry('small'), undefined)
    // The test server runs with -I 2m.
    const error = await mc.set('big', createTestEntry('x'.repeat(3 * 1024 * 1024)), undefined).catch((e) => e)
    expect(error).toBeInstanceOf(LayerError)
    expect(error.cause).toBeInstanceOf(ItemTooLargeError)
    expect(error.cause.code).toBe('E_ITEM_TOO_LARGE')
    expect(error.cause.size).toBeGreaterThan(3 * 1024 * 1024)
    // memcached unlinks the item a failed oversized SET targeted, so no stale value outlives the write.
    expect(await mc.get('big')).toBeUndefined()
  })

  it('a too-large write through the stack is an error event, and reads still work', async () => {
    const mc = layer()
    const cache = new CacheStack([new MemoryLayer(), mc])
    stacks.push(cache)
    const errors: unknown[] = []
    cache.on('error', ({ error }) => errors.push(error))
    await cache.set('big', 'x'.repeat(3 * 1024 * 1024))
    expect(errors).toHaveLength(1)
    expect((errors[0] as LayerError).cause).toBeInstanceOf(ItemTooLargeError)
    expect(await mc.get('big')).toBeUndefined()
  })

  it('fails fast on a port nobody listens on', async () => {
    const mc = new MemcachedLayer({ servers: `127.0.0.1:${await freePort()}`, commandTimeout: '10s' })
    layers.push(mc)
    const error = await mc.get('k').catch((e) => e)
    expect(error).toBeInstanceOf(LayerError)
    // Refused at once by the OS, not left to the 10 s timeout.
    expect(error.cause).not.toBeInstanceOf(CommandTimeoutError)
    await expect(mc.ping()).rejects.toBeInstanceOf(LayerError)
    await expect(mc.set('k', createTestEntry(1), undefined)).rejects.toBeInstanceOf(LayerError)
  })

  describe('against a server that accepts connections and never answers', () => {
    let server: Server
    const sockets: Socket[] = []
    afterEach(async () => {
      for (const socket of sockets.splice(0)) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    })

    it('every command rejects with CommandTimeoutError after commandTimeout', async () => {
      server = createServer((socket) => sockets.push(socket))
      const port = await new Promise<number>((resolve) =>
        server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
      )
      const mc = new MemcachedLayer({ servers: `127.0.0.1:${port}`, commandTimeout: 100 })
      layers.push(mc)
      for (const call of [
        () => mc.get('k'),
        () => mc.getMany(['a', 'b']),
        () => mc.ping(),
        () => mc.keys('x')[Symbol.asyncIterator]().next(),
      ]) {
        const error = await call().catch((e) => e)
        expect(error).toBeInstanceOf(LayerError)
        expect(error.cause).toBeInstanceOf(CommandTimeoutError)
      }
    })
  })

  it('treats bytes it did not write as a miss, reports and removes them', async () => {
    const mc = layer()
    const reported: unknown[] = []
    mc.attach({ clock: { now: () => Date.now() }, reportError: (error) => reported.push(error) })
    const key = storedKey(mc.prefix, 'garbage')
    await raw.set(key, Buffer.from('not a frame'), {})
    expect(await mc.get('garbage')).toBeUndefined()
    expect(reported).toHaveLength(1)
    expect((await raw.get(key)).value).toBeNull()
  })
})

describe('MemcachedLayer options', () => {
  it('refuses a misspelt option, naming it and the likely one', () => {
    expect(() => new MemcachedLayer({ servers: testMemcached(), prefx: 'a:' } as never)).toThrow(
      /"prefx" is not an option of new MemcachedLayer\(\); did you mean "prefix"\?/,
    )
    const error = (() => {
      try {
        new MemcachedLayer({ servers: testMemcached(), comandTimeout: 5 } as never)
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).option).toBe('comandTimeout')
  })

  it.each([
    [{}, 'client'],
    [{ servers: testMemcached(), client: raw }, 'client'],
    [{ servers: '' }, 'servers'],
    [{ servers: testMemcached(), prefix: 'has space:' }, 'prefix'],
    [{ servers: testMemcached(), prefix: 'p'.repeat(101) }, 'prefix'],
    [{ servers: testMemcached(), commandTimeout: 0 }, 'commandTimeout'],
    [{ servers: testMemcached(), serializer: 'xml' }, 'serializer'],
    [{ client: raw, memjsOptions: { retries: 3 } }, 'memjsOptions'],
    [{ client: {} }, 'client'],
  ])('refuses %j naming %s', (options, option) => {
    expect(() => new MemcachedLayer(options as never)).toThrow(expect.objectContaining({ option }))
  })

  it('refuses clear() with an empty prefix unless allowed', async () => {
    const mc = layer({ prefix: '' })
    await expect(mc.clear()).rejects.toBeInstanceOf(ValidationError)
  })

  it('leaves a client it was given open after dispose', async () => {
    const mc = new MemcachedLayer({ client: raw, prefix: memcachedPrefix('given') })
    await mc.set('k', createTestEntry(1), undefined)
    await mc.dispose()
    expect((await raw.get(`${mc.prefix}k`)).value).not.toBeNull()
  })
})

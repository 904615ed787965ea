import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestRedis, uniquePrefix } from '../../../../tools/test-redis.ts'
import { CacheStack } from '../cache-stack.ts'
import { RedisBus } from '../distributed/redis-bus.ts'
import type { CacheEntry, CacheLayer } from '../layer.ts'
import { MemoryLayer } from '../layers/memory-layer.ts'
import { RedisLayer } from '../layers/redis-layer.ts'
import { ChangeLog } from './change-log.ts'

describe('ChangeLog', () => {
  it('tells whether a key changed after a mark', () => {
    const log = new ChangeLog()
    const mark = log.mark()
    expect(log.changedSince('a', mark)).toBe(false)
    log.changed(['a'])
    expect(log.changedSince('a', mark)).toBe(true)
    expect(log.changedSince('b', mark)).toBe(false)
    expect(log.changedSince('a', log.mark())).toBe(false)
  })

  it('treats every key as changed after a broad change or past its memory', () => {
    const log = new ChangeLog(2)
    const mark = log.mark()
    log.changed(['a', 'b', 'c'])
    expect(log.changedSince('zzz', mark)).toBe(true)
    const later = log.mark()
    log.changedMany()
    expect(log.changedSince('anything', later)).toBe(true)
  })
})

/** A shared layer whose reads answer what was stored when they started, but only after `gate` opens. */
class GatedLayer implements CacheLayer {
  readonly name = 'redis'
  readonly isLocal = false
  readonly inner: RedisLayer
  gate: Promise<void> | undefined
  started: (() => void) | undefined
  constructor(inner: RedisLayer) {
    this.inner = inner
  }
  async get(key: string): Promise<CacheEntry | undefined> {
    const entry = await this.inner.get(key)
    this.started?.()
    if (this.gate) await this.gate
    return entry
  }
  getMany = (keys: readonly string[]) => this.inner.getMany(keys)
  set = (key: string, entry: CacheEntry, ttl: number | undefined) => this.inner.set(key, entry, ttl)
  setMany = (writes: Parameters<RedisLayer['setMany']>[0]) => this.inner.setMany(writes)
  delete = (key: string) => this.inner.delete(key)
  deleteMany = (keys: readonly string[]) => this.inner.deleteMany(keys)
  clear = (prefix?: string) => this.inner.clear(prefix)
  keys = (prefix?: string) => this.inner.keys(prefix)
  has = (key: string) => this.inner.has(key)
  ttl = (key: string) => this.inner.ttl(key)
  ping = () => this.inner.ping()
  dispose = () => this.inner.dispose()
}

function gated(layer: GatedLayer): { opened: Promise<void>; open: () => void } {
  let open!: () => void
  let started!: () => void
  layer.gate = new Promise((resolve) => (open = resolve))
  const opened = new Promise<void>((resolve) => (started = resolve))
  layer.started = started
  return { opened, open }
}

describe('a read overtaken by a write does not back-fill what it read', () => {
  let client: Redis
  beforeAll(() => {
    client = createTestRedis()
  })
  afterAll(async () => {
    await client.quit()
  })

  it('in one process: a set made while a Redis read is in flight stays in memory', async () => {
    const prefix = uniquePrefix('overtaken-local')
    const seed = new CacheStack([new RedisLayer({ client, prefix })])
    await seed.set('k', 'old')
    const slow = new GatedLayer(new RedisLayer({ client, prefix }))
    const cache = new CacheStack([new MemoryLayer(), slow])
    const { opened, open } = gated(slow)
    const read = cache.get('k')
    await opened
    slow.gate = undefined
    await cache.set('k', 'new')
    open()
    expect(await read).toBe('old')
    expect(await cache.get('k')).toBe('new')
    await cache.disconnect()
  })

  it('across instances: a set arriving on the bus during the read wins', async () => {
    const prefix = uniquePrefix('overtaken-bus')
    const channel = `${prefix}bus`
    const writer = new CacheStack([new MemoryLayer(), new RedisLayer({ client, prefix })], {
      bus: new RedisBus({ client, channel }),
    })
    const slow = new GatedLayer(new RedisLayer({ client, prefix }))
    const reader = new CacheStack([new MemoryLayer(), slow], { bus: new RedisBus({ client, channel }) })
    await Promise.all([writer.ready(), reader.ready()])
    await writer.set('k', 'old')
    const received = new Promise<void>((resolve) => reader.on('bus-receive', () => resolve()))
    const { opened, open } = gated(slow)
    const read = reader.get('k')
    await opened
    slow.gate = undefined
    await writer.set('k', 'new')
    await received
    open()
    expect(await read).toBe('old')
    expect(await reader.get('k')).toBe('new')
    await Promise.all([writer.disconnect(), reader.disconnect()])
  })
})

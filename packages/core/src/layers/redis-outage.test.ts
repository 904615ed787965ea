// Redis away, with default options, the way a new user meets it: a URL where nothing listens, and a
// redis-server of our own that stops answering (SIGSTOP). Before the connection watch, every case below
// took ~10.6 s (refused port: ioredis holds a command through 20 reconnect attempts) or never finished
// (stopped Redis), and a client passed in printed "[ioredis] Unhandled error event" on every retry.
// The bounds are generous on purpose (a busy 2-core machine): they only have to fail on the old stall.
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { freePort, startRedis } from '../../../../tools/test-services.ts'
import { CacheStack } from '../cache-stack.ts'
import { RedisBus } from '../distributed/redis-bus.ts'
import { RedisSingleFlight } from '../distributed/redis-single-flight.ts'
import { BusError, LayerError, RedisUnavailableError } from '../errors.ts'
import { MemoryLayer } from './memory-layer.ts'
import { RedisLayer } from './redis-layer.ts'

/** Far below the old ~10.6 s / forever, far above a 1 s command timeout on a loaded machine. */
const BOUND = 3_000

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = performance.now()
  try {
    const value = await work()
    return { ms: performance.now() - started, value }
  } catch (error) {
    return { ms: performance.now() - started, error }
  }
}

function stacks(url: string) {
  const twoTier = new CacheStack([new MemoryLayer(), new RedisLayer({ url })])
  const redisOnly = new CacheStack([new RedisLayer({ url })])
  const errors: unknown[] = []
  for (const stack of [twoTier, redisOnly]) {
    stack.on('error', ({ error }) => errors.push(error))
    cleanups.push(() => stack.disconnect())
  }
  return { twoTier, redisOnly, errors }
}

/** What every outage must give: answers from memory or the factory, and typed, bounded failures. */
async function expectBounded(url: string): Promise<void> {
  const { twoTier, redisOnly } = stacks(url)
  const first = await timed(() => twoTier.get('k', () => 'from factory'))
  expect(first.value).toBe('from factory')
  expect(first.ms).toBeLessThan(BOUND)
  expect(await twoTier.get('k')).toBe('from factory')

  const read = await timed(() => redisOnly.get('k', () => 'again'))
  expect(read.value).toBe('again')
  expect(read.ms).toBeLessThan(BOUND)
  const getOrSet = await timed(() => redisOnly.getOrSet('k2', () => 'computed'))
  expect(getOrSet.value).toBe('computed')
  expect(getOrSet.ms).toBeLessThan(BOUND)

  for (const stack of [twoTier, redisOnly]) {
    const ready = await timed(() => stack.ready())
    expect(ready.ms).toBeLessThan(BOUND)
    expect(ready.error).toBeInstanceOf(LayerError)
    expect((ready.error as LayerError).code).toBe('E_LAYER_ERROR')
    expect((ready.error as LayerError).cause).toHaveProperty('code')
    const disconnected = await timed(() => stack.disconnect())
    expect(disconnected.error).toBeUndefined()
    expect(disconnected.ms).toBeLessThan(BOUND)
  }
}

describe('Redis URL where nothing listens (default options)', () => {
  it('answers from memory or the factory, and ready()/disconnect() return, all within the bound', async () => {
    await expectBounded(`redis://127.0.0.1:${await freePort()}`)
  })

  it('a fresh stack: ready() rejects at once with a LayerError caused by RedisUnavailableError', async () => {
    const { twoTier } = stacks(`redis://127.0.0.1:${await freePort()}`)
    const ready = await timed(() => twoTier.ready())
    expect(ready.ms).toBeLessThan(BOUND)
    expect((ready.error as LayerError).cause).toBeInstanceOf(RedisUnavailableError)
    expect((ready.error as LayerError).cause).toMatchObject({ code: 'E_REDIS_UNAVAILABLE' })
  })

  it('a client passed to a layer and a bus prints nothing: its errors reach the error event', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {})
    cleanups.push(() => printed.mockRestore())
    const client = new Redis(await freePort(), '127.0.0.1', { retryStrategy: () => 20 })
    cleanups.push(() => client.disconnect())
    const stack = new CacheStack([new MemoryLayer(), new RedisLayer({ client })], {
      bus: new RedisBus({ client }),
      singleFlight: new RedisSingleFlight({ client }),
    })
    const errors: { operation: string; error: unknown }[] = []
    stack.on('error', ({ operation, error }) => errors.push({ operation, error }))
    cleanups.push(() => stack.disconnect())
    const read = await timed(() => stack.get('k', () => 'v'))
    expect(read.value).toBe('v')
    expect(read.ms).toBeLessThan(BOUND)
    const ready = await timed(() => stack.ready())
    expect(ready.ms).toBeLessThan(BOUND)
    expect(ready.error).toMatchObject({ code: expect.stringMatching(/^E_(LAYER|BUS)_ERROR$/) })
    // Several reconnect attempts go by (one every 20 ms).
    await new Promise((resolve) => setTimeout(resolve, 200))
    const ioredisLines = printed.mock.calls.filter((args) => String(args[0]).includes('[ioredis]'))
    expect(ioredisLines).toEqual([])
    const refused = errors.filter(({ error }) => (error as NodeJS.ErrnoException).code === 'ECONNREFUSED')
    expect(refused.map(({ operation }) => operation).sort()).toEqual(['bus', 'connection'])
    const disconnected = await timed(() => stack.disconnect())
    expect(disconnected.ms).toBeLessThan(BOUND)
  })
})

describe('a Redis that stops answering (SIGSTOP), default options', () => {
  let server: ChildProcess
  let url: string
  let dir: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cachestack-outage-'))
    const started = await startRedis(dir)
    server = started.process
    url = `redis://127.0.0.1:${started.port}`
  })

  afterAll(() => {
    server.kill('SIGCONT')
    server.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  afterEach(() => {
    server.kill('SIGCONT')
  })

  it('connected first, then stopped: reads, ready() and disconnect() are bounded', async () => {
    const { twoTier, redisOnly } = stacks(url)
    await twoTier.ready()
    await redisOnly.ready()
    await twoTier.set('kept', 'in memory')
    server.kill('SIGSTOP')
    expect(await twoTier.get('kept')).toBe('in memory')
    const cold = await timed(() => twoTier.get('cold', () => 'from factory'))
    expect(cold.value).toBe('from factory')
    expect(cold.ms).toBeLessThan(BOUND)
    const reads = await timed(async () => [
      await redisOnly.get('a', () => 1),
      await redisOnly.getOrSet('b', () => 2),
      await redisOnly.getOrSet('c', () => 3),
    ])
    expect(reads.value).toEqual([1, 2, 3])
    // One command timeout, then fast failures until Redis answers again: not one timeout per call.
    expect(reads.ms).toBeLessThan(BOUND)
    for (const stack of [twoTier, redisOnly]) {
      const ready = await timed(() => stack.ready())
      expect(ready.ms).toBeLessThan(BOUND)
      expect(ready.error).toBeInstanceOf(LayerError)
      const disconnected = await timed(() => stack.disconnect())
      expect(disconnected.error).toBeUndefined()
      expect(disconnected.ms).toBeLessThan(BOUND)
    }
  })

  it('stopped before the stack starts: the same bounds, also with a bus', async () => {
    server.kill('SIGSTOP')
    await expectBounded(url)
    const client = new Redis(url)
    cleanups.push(() => client.disconnect())
    const stack = new CacheStack([new MemoryLayer()], { bus: new RedisBus({ client }) })
    stack.on('error', () => {})
    const ready = await timed(() => stack.ready())
    expect(ready.ms).toBeLessThan(BOUND)
    expect(ready.error).toBeInstanceOf(BusError)
    expect(ready.error).toMatchObject({ code: 'E_BUS_ERROR' })
    const disconnected = await timed(() => stack.disconnect())
    expect(disconnected.ms).toBeLessThan(BOUND)
  })

  it('once Redis runs again, the layer is used again and the bus subscribes late', async () => {
    const client = new Redis(url)
    cleanups.push(() => client.disconnect())
    await client.ping()
    server.kill('SIGSTOP')
    const bus = new RedisBus({ client })
    const stack = new CacheStack([new MemoryLayer(), new RedisLayer({ url })], { bus })
    stack.on('error', () => {})
    cleanups.push(() => stack.disconnect())
    await expect(stack.ready()).rejects.toBeInstanceOf(Error)
    server.kill('SIGCONT')
    await vi.waitFor(() => expect(bus.listening).toBe(true), { timeout: 10_000, interval: 50 })
    await vi.waitFor(() => stack.ready(), { timeout: 10_000, interval: 100 })
    await stack.set('after', 'stored')
    expect(await new RedisLayer({ client }).get('after')).toMatchObject({ value: 'stored' })
  })
})

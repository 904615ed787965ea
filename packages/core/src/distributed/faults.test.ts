// Faults on a redis-server of our own: stopped (SIGSTOP), killed and restarted on the same port.
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startRedis } from '../../../../tools/test-services.ts'
import { CacheStack } from '../cache-stack.ts'
import { MemoryLayer } from '../layers/memory-layer.ts'
import { RedisLayer } from '../layers/redis-layer.ts'
import { RedisBus } from './redis-bus.ts'
import { RedisSingleFlight } from './redis-single-flight.ts'
import { eventually, killRedis, startRedisOn } from './test-fixtures/helpers.ts'

let dir: string
let port: number
let server: ChildProcess
const clients: Redis[] = []
const stacks: CacheStack[] = []

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cachestack-faults-'))
  const started = await startRedis(dir)
  port = started.port
  server = started.process
})
afterEach(async () => {
  if (server.exitCode !== null || server.signalCode !== null) server = await startRedisOn(port, dir)
  await Promise.all(stacks.splice(0).map((stack) => stack.disconnect()))
  for (const client of clients.splice(0)) client.disconnect()
})
afterAll(async () => {
  await killRedis(server)
  rmSync(dir, { recursive: true, force: true })
})

/** A client that fails fast and reconnects every 50 ms, as a process would hold. */
function connect(): Redis {
  const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, retryStrategy: () => 50 })
  client.on('error', () => {})
  clients.push(client)
  return client
}

function instance(options: { retryQueueSize?: number; flight?: boolean; client?: Redis } = {}) {
  const client = options.client ?? connect()
  const bus = new RedisBus({ client, channel: 'faults', retryQueueSize: options.retryQueueSize })
  const memory = new MemoryLayer()
  const flight = options.flight ? new RedisSingleFlight({ client, lease: '30s' }) : undefined
  // The default command timeout (1 s): 300 ms failed ready()'s ping once in a full run on a loaded 2-core
  // machine. A killed Redis fails commands at once anyway; only the SIGSTOP case waits it out.
  const stack = new CacheStack([memory, new RedisLayer({ client, prefix: 'faults:' })], {
    bus,
    singleFlight: flight,
    gracefulDegradation: { retryAfter: 100 },
  })
  stack.on('error', () => {})
  stacks.push(stack)
  return { stack, bus, memory, client, flight }
}

describe('bus faults', () => {
  it('Redis killed and restarted: local work goes on, the queue drains, the other L1 is distrusted', async () => {
    const a = instance()
    const b = instance()
    await Promise.all([a.stack.ready(), b.stack.ready()])
    await b.stack.set('k', 1)
    await b.stack.set('other', 'x')
    await killRedis(server)

    await a.stack.set('k', 2)
    expect(await a.stack.get('k')).toBe(2)
    expect(await a.stack.getOrSet('fresh', () => 'from the factory')).toBe('from the factory')
    await a.stack.invalidateByTag('t')
    await eventually(() => expect(a.bus.stats.queued).toBeGreaterThan(0))
    // B cannot hear anything meanwhile and keeps serving its L1.
    expect(await b.stack.get('other')).toBe('x')

    server = await startRedisOn(port, dir)
    await eventually(() => expect(a.bus.stats.queued).toBe(0))
    await eventually(() => expect(b.bus.stats.reconnects).toBe(1))
    expect(b.memory.get('k')).toBeUndefined()
    expect(b.memory.get('other')).toBeUndefined()
    expect(await b.stack.get('k')).not.toBe(1)
  })

  it('a publisher that lost its connection queues (de-duplicated) and replays when it answers again', async () => {
    const a = instance()
    const b = instance()
    await Promise.all([a.stack.ready(), b.stack.ready()])
    await b.stack.set('k', 1)
    await b.stack.set('tagged', 1, { tags: ['t'] })
    a.client.disconnect()
    await a.stack.delete('k')
    await a.stack.delete('k')
    await a.stack.delete('k')
    await a.stack.invalidateByTag('t')
    await eventually(() => expect(a.bus.stats.queued).toBe(2))
    expect(b.memory.get('k')).toBeDefined()
    expect(await b.stack.get('tagged')).toBe(1)

    await a.client.connect()
    await eventually(() => expect(b.memory.get('k')).toBeUndefined())
    await eventually(async () => expect(await b.stack.get('tagged')).toBeUndefined())
    expect(a.bus.stats.queued).toBe(0)
    expect(b.bus.stats.received).toBe(2)
  })

  it('an overflowing queue collapses into one "drop your L1" message', async () => {
    const a = instance({ retryQueueSize: 2 })
    const b = instance()
    await Promise.all([a.stack.ready(), b.stack.ready()])
    await b.stack.set('untouched', 1)
    a.client.disconnect()
    for (const key of ['x', 'y', 'z']) await a.stack.delete(key)
    await eventually(() => expect(a.bus.stats.overflows).toBe(1))
    expect(a.bus.stats.queued).toBe(1)
    await a.client.connect()
    // What was dropped is unknown, so B drops everything, even keys no message named.
    await eventually(() => expect(b.memory.get('untouched')).toBeUndefined())
  })

  it('Redis stopped (SIGSTOP): local work goes on and the held-up message arrives once it runs again', async () => {
    const a = instance()
    const b = instance()
    await Promise.all([a.stack.ready(), b.stack.ready()])
    await b.stack.set('k', 1)
    server.kill('SIGSTOP')
    try {
      await a.stack.delete('k')
      expect(await a.stack.getOrSet('local', () => 'ok')).toBe('ok')
      expect(b.memory.get('k')).toBeDefined()
    } finally {
      server.kill('SIGCONT')
    }
    await eventually(() => expect(b.memory.get('k')).toBeUndefined())
  })
})

describe('single-flight faults', () => {
  it('Redis down: the factory still runs (per-process dedupe only) and answers', async () => {
    const a = instance({ flight: true })
    await a.stack.ready()
    await killRedis(server)
    let calls = 0
    const values = await Promise.all(
      Array.from({ length: 10 }, () => a.stack.getOrSet('k', async () => ++calls)),
    )
    expect(values).toEqual(Array(10).fill(1))
    expect(calls).toBe(1)
    expect(a.flight!.stats.unguarded).toBe(1)
  })
})

// Invalidation cost, counted by the server itself (INFO commandstats) on a redis-server of our own.
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startRedis } from '../../../../tools/test-services.ts'
import { CacheStack } from '../cache-stack.ts'
import { MemoryLayer } from '../layers/memory-layer.ts'
import { RedisLayer } from '../layers/redis-layer.ts'
import { RedisBus } from './redis-bus.ts'
import { eventually, instance, killRedis } from './test-fixtures/helpers.ts'

let dir: string
let server: ChildProcess
let client: Redis
let admin: Redis

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cachestack-round-trips-'))
  const started = await startRedis(dir)
  server = started.process
  client = new Redis({ port: started.port, host: '127.0.0.1' })
  admin = new Redis({ port: started.port, host: '127.0.0.1' })
})
afterAll(async () => {
  await Promise.all([client.quit(), admin.quit()])
  await killRedis(server)
  rmSync(dir, { recursive: true, force: true })
})

/** Commands the server processed, excluding the INFO calls that count them. */
async function commandCount(): Promise<number> {
  const info = await admin.info('commandstats')
  let total = 0
  for (const [, name, calls] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (name !== 'info') total += Number(calls)
  }
  return total
}

/**
 * The command count once the setup's own traffic has stopped (the bus echoes of 2,000 writes, B's
 * reads): unchanged across 20 ms, three times in a row. A fixed pause let one late command of the
 * setup be counted as the invalidation's on a loaded machine (8 instead of 7).
 */
async function settledCount(): Promise<number> {
  let last = await commandCount()
  for (let quiet = 0; quiet < 3; ) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    const now = await commandCount()
    quiet = now === last ? quiet + 1 : 0
    last = now
  }
  return last
}

async function invalidationCost(entries: number, mode: 'any' | 'all' = 'any'): Promise<number> {
  const prefix = `rt${mode}${entries}:`
  const a = instance(client, prefix, `${prefix}bus`)
  const b = instance(client, prefix, `${prefix}bus`)
  const stacks: CacheStack[] = [a.stack, b.stack]
  await Promise.all(stacks.map((stack) => stack.ready()))
  const tags = mode === 'any' ? ['t'] : ['t', 'u']
  await a.stack.mset(Array.from({ length: entries }, (_, i) => ({ key: `k${i}`, value: i, tags })))
  // B holds every entry in its L1, so the invalidation has something to reach there too.
  await b.stack.getMany(Array.from({ length: entries }, (_, i) => `k${i}`))
  const before = await settledCount()
  // B reads once the message is in: a read before it (served by B's L1, or not, by timing) is not
  // what the invalidation costs, and made the count vary by one under load.
  const received = new Promise((resolve) => b.stack.on('bus-receive', resolve))
  if (mode === 'any') await a.stack.invalidateByTag('t')
  else await a.stack.invalidateByTags(['t', 'u'], 'all')
  await received
  await eventually(async () => expect(await b.stack.get(`k${entries - 1}`)).toBeUndefined())
  const cost = (await commandCount()) - before
  await Promise.all(stacks.map((stack) => stack.disconnect()))
  return cost
}

describe('tag invalidation cost', () => {
  it('is the same handful of commands for 10 and for 2,000 tagged entries', async () => {
    // Counted: the tag-state write (and its merge read), PUBLISH, and B's read after the invalidation
    // (GET + tag-state fetch) — an upper bound of the invalidation itself, whatever the entry count.
    const small = await invalidationCost(10)
    const large = await invalidationCost(2000)
    expect(large).toBe(small)
    expect(small).toBeLessThanOrEqual(8)
  })

  it("'all' mode, now stored in Redis too, costs the same handful whatever the entry count", async () => {
    // The set is filed in its first tag's state key: one merge read and one write, like a tag.
    const small = await invalidationCost(10, 'all')
    const large = await invalidationCost(2000, 'all')
    expect(large).toBe(small)
    expect(small).toBeLessThanOrEqual(9)
  })
})

/** The commands a client sends, by name (counted on the client: a script's own calls are not commands sent). */
function countSent(client: Redis): Map<string, number> {
  const sent = new Map<string, number>()
  const send = client.sendCommand.bind(client)
  ;(client as unknown as { sendCommand: typeof send }).sendCommand = (command, ...rest) => {
    sent.set(command.name, (sent.get(command.name) ?? 0) + 1)
    return send(command, ...rest)
  }
  return sent
}

describe('a tag invalidation and its bus message', () => {
  /** A: memory + Redis on `layerClient`, bus on `busClient`; B: memory + Redis + bus on the test server. */
  async function twoInstances(layerClient: Redis, busClient: Redis) {
    const prefix = `carry${Math.random().toString(36).slice(2)}:`
    const channel = `${prefix}bus`
    const a = new CacheStack([new MemoryLayer(), new RedisLayer({ client: layerClient, prefix })], {
      bus: new RedisBus({ client: busClient, channel, signingSecret: 'shared' }),
    })
    const b = instance(client, prefix, channel, { bus: { signingSecret: 'shared' } })
    await Promise.all([a.ready(), b.stack.ready()])
    await b.stack.set('k', 1, { tags: ['t'] })
    await a.invalidateByTag('warm-up') // loads the script, so that what follows is the invalidation alone
    return { a, b, prefix, stacks: [a, b.stack] }
  }

  it('travel in one command when the bus publishes on the Redis of the shared layer', async () => {
    const layerClient = new Redis({ port: client.options.port, host: '127.0.0.1' })
    const busClient = new Redis({ port: client.options.port, host: '127.0.0.1' })
    const { a, b, prefix, stacks } = await twoInstances(layerClient, busClient)
    const onLayer = countSent(layerClient)
    const onBus = countSent(busClient)
    await a.invalidateByTag('t')
    expect(Object.fromEntries(onLayer)).toEqual({ evalsha: 1 })
    expect(Object.fromEntries(onBus)).toEqual({})
    // The signed message reached B (its L1 copy misses), and the state is in Redis for everyone else.
    await eventually(async () => expect(await b.stack.get('k')).toBeUndefined())
    // The same script wrote the state: an instance without the bus, reading Redis, misses too.
    const reader = new CacheStack([new RedisLayer({ client, prefix })])
    expect(await reader.get('k')).toBeUndefined()
    await reader.disconnect()
    await Promise.all([...stacks.map((stack) => stack.disconnect()), layerClient.quit(), busClient.quit()])
  })

  it('is published by the bus itself when the write it rode on fails', async () => {
    const layerClient = new Redis({ port: client.options.port, host: '127.0.0.1' })
    const busClient = new Redis({ port: client.options.port, host: '127.0.0.1' })
    const { a, b, stacks } = await twoInstances(layerClient, busClient)
    const onBus = countSent(busClient)
    // The layer's connection is gone: its state write fails at once, the bus's connection still works.
    layerClient.disconnect()
    await eventually(() => expect(layerClient.status).toBe('end'))
    await a.invalidateByTag('t')
    await eventually(async () => expect(await b.stack.get('k')).toBeUndefined())
    expect(onBus.get('publish')).toBe(1)
    await Promise.all([...stacks.map((stack) => stack.disconnect()), busClient.quit()])
  })

  it('go as two commands when the bus is on another Redis', async () => {
    const other = await startRedis(dir)
    const busClient = new Redis({ port: other.port, host: '127.0.0.1' })
    const layerClient = new Redis({ port: client.options.port, host: '127.0.0.1' })
    const prefix = 'elsewhere:'
    const a = new CacheStack([new MemoryLayer(), new RedisLayer({ client: layerClient, prefix })], {
      bus: new RedisBus({ client: busClient, channel: 'c' }),
    })
    const b = instance(busClient, prefix, 'c')
    await Promise.all([a.ready(), b.stack.ready()])
    await b.stack.set('k', 1, { tags: ['t'] })
    await a.invalidateByTag('warm-up')
    const onLayer = countSent(layerClient)
    const onBus = countSent(busClient)
    await a.invalidateByTag('t')
    expect(Object.fromEntries(onLayer)).toEqual({ evalsha: 1 })
    expect(Object.fromEntries(onBus)).toEqual({ publish: 1 })
    await eventually(async () => expect(await b.stack.get('k')).toBeUndefined())
    await Promise.all([a.disconnect(), b.stack.disconnect(), layerClient.quit(), busClient.quit()])
    await killRedis(other.process)
  })
})

describe('the first read of an entry after its tag was invalidated', () => {
  it("costs a plain miss's commands (GET + SET) and parses only the dead entry's head", async () => {
    const layerClient = new Redis({ port: client.options.port, host: '127.0.0.1' })
    const sent = countSent(layerClient)
    const prefix = 'rt-after:'
    const stack = new CacheStack([new MemoryLayer(), new RedisLayer({ client: layerClient, prefix })])
    await stack.set('k', { note: 'dead-value-marker' }, { tags: ['t'] })
    await stack.invalidateByTag('t')
    // What the GET below answers: the dead shared entry, value and all.
    expect(await layerClient.get(`${prefix}k`)).toContain('dead-value-marker')
    sent.clear()
    const parse = vi.spyOn(JSON, 'parse')
    try {
      // The L1 copy is dead, then Redis answers the dead shared entry: its head says so (the head is
      // read without JSON.parse when it is as this library writes it; the value is not read at all).
      expect(await stack.getOrSet('k', async () => ({ note: 'fresh' }))).toEqual({ note: 'fresh' })
      const parsed = parse.mock.calls.map(([text]) => String(text))
      expect(parsed.filter((text) => text.includes('dead-value-marker'))).toEqual([])
    } finally {
      parse.mockRestore()
    }
    expect(Object.fromEntries(sent)).toEqual({ get: 1, set: 1 })
    expect(JSON.parse((await layerClient.get(`${prefix}k`))!).value).toEqual({ note: 'fresh' })
    await stack.disconnect()
    await layerClient.quit()
  })
})

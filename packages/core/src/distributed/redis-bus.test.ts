import { createHmac } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createTestCluster, createTestRedis, uniquePrefix } from '../../../../tools/test-redis.ts'
import type { CacheStack } from '../cache-stack.ts'
import { ValidationError } from '../errors.ts'
import { RedisBus } from './redis-bus.ts'
import { eventually, instance } from './test-fixtures/helpers.ts'
import { encode } from './wire.ts'

const targets: [string, () => Redis | Cluster][] = [
  ['a single Redis', createTestRedis],
  ['a Redis Cluster', createTestCluster],
]

describe.each(targets)('RedisBus on %s', (_label, connect) => {
  let client: Redis | Cluster
  const stacks: CacheStack[] = []
  beforeAll(() => {
    client = connect()
  })
  afterEach(async () => {
    await Promise.all(stacks.splice(0).map((stack) => stack.disconnect()))
  })
  afterAll(async () => {
    await client.quit()
  })

  /** Two (or more) instances sharing a Redis prefix and a channel, each ready. */
  async function pair(count = 2, options: Parameters<typeof instance>[3] = {}) {
    const prefix = uniquePrefix('bus')
    const channel = `${prefix}channel`
    const list = Array.from({ length: count }, () => instance(client, prefix, channel, options))
    stacks.push(...list.map((item) => item.stack))
    await Promise.all(list.map((item) => item.stack.ready()))
    return list
  }

  it('removes a key from the other L1 after set, delete and expire', async () => {
    const [a, b] = await pair()
    await a!.stack.set('k', 1, { ttl: '1m', grace: '1m' })
    // A's own 'set' message may land during B's first read, which then does not back-fill: read again.
    await eventually(async () => {
      expect(await b!.stack.get('k')).toBe(1)
      expect(b!.memory.get('k')).toBeDefined()
    })
    await a!.stack.set('k', 2)
    await eventually(() => expect(b!.memory.get('k')).toBeUndefined())
    expect(await b!.stack.get('k')).toBe(2)
    await a!.stack.delete('k')
    await eventually(() => expect(b!.memory.get('k')).toBeUndefined())
    expect(await b!.stack.get('k')).toBeUndefined()
    await a!.stack.set('e', 'v', { ttl: '1m', grace: '1m' })
    expect(await b!.stack.get('e')).toBe('v')
    await a!.stack.expire('e')
    await eventually(() => expect(b!.memory.get('e')).toBeUndefined())
    expect(await b!.stack.has('e')).toBe(false)
  })

  it('makes tagged L1 entries on B miss after a tag invalidation on A, through the tag state the bus recorded', async () => {
    const [a, b] = await pair()
    await b!.stack.set('t1', 'one', { tags: ['users'], ttl: '1m', grace: '1m' })
    await b!.stack.set('t2', 'two', { tags: ['posts'], ttl: '1m', grace: '1m' })
    await a!.stack.invalidateByTag('users')
    // The entry is still in B's memory; the bus recorded the tag state, so the L1 read itself misses.
    await eventually(async () => expect(await b!.stack.get('t1')).toBeUndefined())
    expect(await b!.stack.get('t2')).toBe('two')
    let calls = 0
    expect(await b!.stack.getOrSet('t1', () => ++calls, { tags: ['users'] })).toBe(1)
    await b!.stack.set('s', 'soft', { tags: ['soft'], ttl: '1m', grace: '1m' })
    await a!.stack.expireByTag('soft')
    await eventually(async () => expect(await b!.stack.has('s')).toBe(false))
    expect(await b!.stack.get('s')).toBe('soft')
  })

  it('carries all-tags, prefix, pattern and namespaced clear', async () => {
    const [a, b] = await pair()
    const bs = b!.stack
    await bs.set('both', 1, { tags: ['x', 'y'] })
    await bs.set('onlyx', 2, { tags: ['x'] })
    await a!.stack.invalidateByTags(['x', 'y'], 'all')
    await eventually(async () => expect(await bs.get('both')).toBeUndefined())
    expect(await bs.get('onlyx')).toBe(2)

    await bs.set('user:1', 1)
    await bs.set('user:2', 2)
    await bs.set('post:1', 3)
    await a!.stack.invalidateByPrefix('user:')
    await eventually(() => expect(b!.memory.get('user:1')).toBeUndefined())
    expect(b!.memory.get('user:2')).toBeUndefined()
    expect(await bs.get('post:1')).toBe(3)

    await bs.set('img:1.png', 1)
    await bs.set('img:1.jpg', 2)
    await a!.stack.invalidateByPattern('img:*.png')
    await eventually(() => expect(b!.memory.get('img:1.png')).toBeUndefined())
    expect(b!.memory.get('img:1.jpg')).toBeDefined()

    await bs.namespace('ns').set('k', 1)
    await bs.set('root', 1)
    await a!.stack.namespace('ns').clear()
    await eventually(() => expect(b!.memory.get('ns:k')).toBeUndefined())
    expect(b!.memory.get('root')).toBeDefined()
  })

  it('carries a generation bump', async () => {
    const [a, b] = await pair(2, { generation: 1 })
    await b!.stack.set('g', 'old')
    expect(await a!.stack.bumpGeneration()).toBe(2)
    await eventually(() => expect(b!.stack.getGeneration()).toBe(2))
    expect(await b!.stack.get('g')).toBeUndefined()
  })

  it('reaches every instance and ignores its own echo', async () => {
    const list = await pair(4)
    await Promise.all(list.map(({ stack }) => stack.set('k', 0)))
    await list[0]!.stack.delete('k')
    for (const other of list.slice(1)) {
      await eventually(() => expect(other.memory.get('k')).toBeUndefined())
    }
    await eventually(() => expect(list[0]!.bus.stats.ignored.own).toBeGreaterThan(0))
    // The three other instances' sets, nothing more: its own set and delete came back and were skipped.
    await eventually(() => expect(list[0]!.bus.stats.received).toBe(3))
  })

  it('ignores unsigned, badly signed, malformed and unknown-version messages', async () => {
    const secret = 'shh'
    const [a, b] = await pair(2, { bus: { signingSecret: secret } })
    const channel = b!.bus.channel
    await b!.stack.set('k', 1)
    await client.publish(channel, encode({ v: 1, type: 'delete', keys: ['k'] }, 'intruder', undefined))
    await client.publish(channel, encode({ v: 1, type: 'delete', keys: ['k'] }, 'intruder', Buffer.from('x')))
    await client.publish(channel, `${'0'.repeat(64)}.{"from":"x","m":{"v":1,"type":"delete","keys":["k"]}}`)
    // Signed, then altered on the way.
    const tampered = encode({ v: 1, type: 'delete', keys: ['k'] }, 'intruder', Buffer.from(secret))
    await client.publish(channel, tampered.replace('"k"', '"other"'))
    await client.publish(channel, 'garbage')
    await client.publish(
      channel,
      encode({ v: 1, type: 'delete', keys: 'k' } as never, 'x', Buffer.from(secret)),
    )
    await eventually(() => {
      const { ignored } = b!.bus.stats
      expect(ignored.signature).toBe(4)
      expect(ignored.malformed).toBe(2)
    })
    expect(b!.memory.get('k')).toBeDefined()
    expect(b!.bus.stats.ignored.version).toBe(0)
    // The version check runs on signed payloads: an honest peer of a future release is skipped.
    await client.publish(channel, versioned(secret, 2))
    await eventually(() => expect(b!.bus.stats.ignored.version).toBe(1))
    expect(b!.memory.get('k')).toBeDefined()
    await a!.stack.delete('k')
    await eventually(() => expect(b!.memory.get('k')).toBeUndefined())
  })

  it('keeps the subscription when the handler throws', async () => {
    const prefix = uniquePrefix('bus-throw')
    const bus = new RedisBus({ client, channel: `${prefix}c` })
    const seen: string[] = []
    await bus.subscribe(
      (message) => {
        seen.push(message.type)
        throw new Error('handler bug')
      },
      () => {},
    )
    const sender = new RedisBus({ client, channel: `${prefix}c` })
    sender.publish({ v: 1, type: 'delete', keys: ['a'] })
    sender.publish({ v: 1, type: 'clear', namespace: '' })
    // On a Cluster two PUBLISHes may go through different nodes and arrive in either order.
    await eventually(() => expect([...seen].sort()).toEqual(['clear', 'delete']))
    expect(bus.stats.handlerErrors).toBe(2)
    await Promise.all([bus.dispose(), sender.dispose()])
  })
})

describe('RedisBus options', () => {
  it('names the bad option', () => {
    const client = createTestRedis()
    const cases: [object, string][] = [
      [{}, 'client'],
      [{ client, channel: '' }, 'channel'],
      [{ client, signingSecret: 42 }, 'signingSecret'],
      [{ client, signingSecret: '' }, 'signingSecret'],
      [{ client, retryQueueSize: 0 }, 'retryQueueSize'],
    ]
    for (const [options, option] of cases) {
      const error = catchError(() => new RedisBus(options as never))
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).option).toBe(option)
    }
    client.disconnect()
  })
})

function versioned(secret: string, v: number): string {
  const body = JSON.stringify({ from: 'future', m: { v, type: 'delete', keys: ['k'], extra: true } })
  return `${createHmac('sha256', secret).update(body).digest('hex')}.${body}`
}

function catchError(run: () => unknown): unknown {
  try {
    run()
  } catch (error) {
    return error
  }
  return undefined
}

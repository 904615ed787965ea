import type { Cluster, Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createTestCluster, createTestRedis, uniquePrefix } from '../../../../tools/test-redis.ts'
import { CacheStack } from '../cache-stack.ts'
import { FactoryError, ValidationError } from '../errors.ts'
import type { Duration } from '../internal/units.ts'
import type { CacheEntry, WriteFence } from '../layer.ts'
import { MemoryLayer } from '../layers/memory-layer.ts'
import { RedisLayer } from '../layers/redis-layer.ts'
import { RedisSingleFlight } from './redis-single-flight.ts'
import { eventually } from './test-fixtures/helpers.ts'

const targets: [string, () => Redis | Cluster][] = [
  ['a single Redis', createTestRedis],
  ['a Redis Cluster', createTestCluster],
]

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe.each(targets)('RedisSingleFlight on %s', (_label, connect) => {
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

  /** `count` instances sharing one Redis prefix and one single-flight prefix. */
  function instances(count: number, lease: Duration = '30s') {
    const prefix = uniquePrefix('flight')
    return Array.from({ length: count }, () => {
      const flight = new RedisSingleFlight({ client, lease, prefix: `${prefix}sf:` })
      const stack = new CacheStack([new MemoryLayer(), new RedisLayer({ client, prefix })], {
        singleFlight: flight,
      })
      stacks.push(stack)
      return { stack, flight, prefix }
    })
  }

  it('runs the factory once for 4 instances x 25 concurrent misses, waiters woken by notification', async () => {
    const list = instances(4)
    let calls = 0
    const factory = async () => {
      calls++
      await sleep(50)
      return { answer: 42 }
    }
    const results = await Promise.all(
      list.flatMap(({ stack }) => Array.from({ length: 25 }, () => stack.getOrSet('hot', factory))),
    )
    expect(calls).toBe(1)
    expect(results).toHaveLength(100)
    for (const result of results) expect(result).toEqual({ answer: 42 })
    const stats = list.map(({ flight }) => flight.stats)
    expect(stats.reduce((sum, s) => sum + s.acquired, 0)).toBe(1)
    // A 30s lease and a test that ends in milliseconds: the waiters were woken by the holder's message.
    expect(stats.reduce((sum, s) => sum + s.expiredChecks, 0)).toBe(0)
    expect(stats.reduce((sum, s) => sum + s.notified, 0)).toBe(3)
  })

  it('hands over to exactly one waiter when the winner fails', async () => {
    const list = instances(4)
    let calls = 0
    const factory = async () => {
      calls++
      await sleep(30)
      if (calls === 1) throw new Error('backend hiccup')
      return 'recovered'
    }
    const results = await Promise.allSettled(
      list.flatMap(({ stack }) => Array.from({ length: 10 }, () => stack.getOrSet('k', factory))),
    )
    expect(calls).toBe(2)
    const failed = results.filter((result) => result.status === 'rejected')
    // The holder's own ten callers share its error; everybody else gets the taken-over value.
    expect(failed).toHaveLength(10)
    for (const result of failed) expect((result as PromiseRejectedResult).reason).toBeInstanceOf(FactoryError)
    for (const result of results) if (result.status === 'fulfilled') expect(result.value).toBe('recovered')
  })

  it('hands over to exactly one waiter when the winner skips caching', async () => {
    const list = instances(3)
    let calls = 0
    const values = await Promise.all(
      list.map(({ stack }) =>
        stack.getOrSet('k', async (ctx) => {
          calls++
          await sleep(30)
          return calls === 1 ? ctx.skip('not for caching') : 'cached'
        }),
      ),
    )
    expect(calls).toBe(2)
    expect(values.sort()).toEqual(['cached', 'cached', 'not for caching'])
  })

  it('keeps the lease while a slow factory runs (renewal)', async () => {
    // The lease lives on Redis's clock, so this one test must outlast it for real. It waits on events,
    // not on sleeps: the waiter asks only once the holder runs the factory, and the factory ends once the
    // waiter has looked at the lease twice, each time when the lease it last saw should have expired.
    // 1s renewed every 333ms: a renewal must come 667ms late for the lease to lapse (450ms, lapsing
    // after a 300ms delay, failed once in 10 runs at load 12 on 2 cores).
    const [holder, waiter] = instances(2, '1s')
    let calls = 0
    let running!: () => void
    const started = new Promise<void>((resolve) => {
      running = resolve
    })
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const factory = async () => {
      calls++
      running()
      await gate
      return 'slow'
    }
    const first = holder!.stack.getOrSet('k', factory)
    await started
    const second = waiter!.stack.getOrSet('k', factory)
    // Without renewal the waiter takes the lease at its first look and runs the factory itself.
    await eventually(() => expect(waiter!.flight.stats.expiredChecks >= 2 || calls > 1).toBe(true))
    release()
    expect(await Promise.all([first, second])).toEqual(['slow', 'slow'])
    expect(calls).toBe(1)
    expect(waiter!.flight.stats.expiredChecks).toBeGreaterThanOrEqual(2)
    expect(holder!.flight.stats.acquired).toBe(1)
  })

  it('fences off a holder that lost its lease: it cannot overwrite the newer value', async () => {
    const [a, b] = instances(2)
    const raw = client
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const old = a!.stack.getOrSet('k', async () => {
      await gate
      return 'old'
    })
    const leaseKey = `${a!.prefix}sf:{${a!.prefix}k}:lease`
    await eventually(async () => expect(await raw.exists(leaseKey)).toBe(1))
    // What a stalled holder sees: its lease expired (here removed) and another instance took over.
    await raw.del(leaseKey)
    expect(await b!.stack.getOrSet('k', async () => 'new')).toBe('new')
    release()
    expect(await old).toBe('old')
    expect(a!.flight.stats.fenced).toBe(1)
    const fresh = new CacheStack([new RedisLayer({ client, prefix: a!.prefix })])
    stacks.push(fresh)
    expect(await fresh.get('k')).toBe('new')
  })

  it('serves a value that landed between the miss and the lease without running the factory', async () => {
    const [a, b] = instances(2)
    await b!.stack.set('k', 'already there')
    let calls = 0
    // A's L1 is empty and Redis holds the value: the plain lookup finds it before any lease.
    expect(await a!.stack.getOrSet('k', () => ++calls)).toBe('already there')
    expect(calls).toBe(0)
  })
})

/** A real RedisLayer whose next write (plain or fenced) waits at a gate: the moment after the lease check. */
class GatedRedisLayer extends RedisLayer {
  gate: Promise<void> | undefined
  reached: (() => void) | undefined

  override async set(key: string, entry: CacheEntry, ttl: number | undefined): Promise<void> {
    await this.#hold()
    return super.set(key, entry, ttl)
  }

  override async setFenced(
    key: string,
    entry: CacheEntry,
    ttl: number | undefined,
    fence: WriteFence,
  ): Promise<boolean> {
    await this.#hold()
    return super.setFenced(key, entry, ttl, fence)
  }

  async #hold(): Promise<void> {
    const gate = this.gate
    if (!gate) return
    this.gate = undefined
    this.reached?.()
    await gate
  }
}

/** How the layer and the single-flight reach Redis in a fencing test. */
const fencingSetups: [string, () => { layer: Redis | Cluster; flight: Redis | Cluster }][] = [
  ['one Redis client', () => ((client) => ({ layer: client, flight: client }))(createTestRedis())],
  ['one Cluster client', () => ((client) => ({ layer: client, flight: client }))(createTestCluster())],
  ['two clients of one Redis', () => ({ layer: createTestRedis(), flight: createTestRedis() })],
  ['two clients of one Cluster', () => ({ layer: createTestCluster(), flight: createTestCluster() })],
]

describe.each(fencingSetups)(
  'RedisSingleFlight fencing is one step on the server (%s)',
  (_label, connect) => {
    it('a holder stalled between its lease check and its write cannot overwrite the newer value', async () => {
      // Before the check and the write were one script, A passed its check, stalled, and then its SET
      // replaced B's newer value ('old' was read back below). Before the lease was kept in the entry's
      // slot (Cluster) and checked on any client of the same Redis, that was still so in those setups.
      const clients = connect()
      const prefix = uniquePrefix('fence')
      const stacks: CacheStack[] = []
      const flights: RedisSingleFlight[] = []
      try {
        const gated = new GatedRedisLayer({ client: clients.layer, prefix })
        const make = (layer: RedisLayer) => {
          const flight = new RedisSingleFlight({ client: clients.flight, prefix: `${prefix}sf:` })
          flights.push(flight)
          const stack = new CacheStack([new MemoryLayer(), layer], { singleFlight: flight })
          stacks.push(stack)
          return stack
        }
        const a = make(gated)
        const b = make(new RedisLayer({ client: clients.layer, prefix }))
        let open!: () => void
        gated.gate = new Promise<void>((resolve) => {
          open = resolve
        })
        const atGate = new Promise<void>((resolve) => {
          gated.reached = resolve
        })
        const old = a.getOrSet('k', async () => 'old')
        // A checked its lease and now waits right before writing.
        await atGate
        // Meanwhile its lease is lost (expired; here removed) and B takes over and lands a newer value.
        expect(await clients.flight.del(`${prefix}sf:{${prefix}k}:lease`)).toBe(1)
        expect(await b.getOrSet('k', async () => 'new')).toBe('new')
        open()
        expect(await old).toBe('old')
        const reader = new CacheStack([new RedisLayer({ client: clients.layer, prefix })])
        stacks.push(reader)
        expect(await reader.get('k')).toBe('new')
        // The refusal is counted: once at A's write (B's lease was taken after A's own check passed).
        expect(flights[0]!.stats.fenced).toBe(1)
      } finally {
        await Promise.all(stacks.map((stack) => stack.disconnect()))
        await clients.layer.quit()
        if (clients.flight !== clients.layer) await clients.flight.quit()
      }
    })
  },
)

describe('RedisSingleFlight with its leases on another Redis than the layer', () => {
  it('still writes (after the lease check) and remembers that the lease lives elsewhere', async () => {
    const layerClient = createTestRedis()
    const flightClient = createTestCluster()
    const prefix = uniquePrefix('fence-apart')
    const flight = new RedisSingleFlight({ client: flightClient, prefix: `${prefix}sf:` })
    const stack = new CacheStack([new MemoryLayer(), new RedisLayer({ client: layerClient, prefix })], {
      singleFlight: flight,
    })
    try {
      expect(await stack.getOrSet('k1', async () => 'one')).toBe('one')
      expect(await stack.getOrSet('k2', async () => 'two')).toBe('two')
      const reader = new CacheStack([new RedisLayer({ client: layerClient, prefix })])
      expect([await reader.get('k1'), await reader.get('k2')]).toEqual(['one', 'two'])
      await reader.disconnect()
      expect(flight.stats).toMatchObject({ acquired: 2, fenced: 0 })
    } finally {
      await stack.disconnect()
      await layerClient.quit()
      await flightClient.quit()
    }
  })
})

describe('RedisSingleFlight options', () => {
  it('names the bad option', () => {
    const client = createTestRedis()
    const cases: [object, string][] = [
      [{}, 'client'],
      [{ client, lease: 'soon' }, 'lease'],
      [{ client, lease: 5 }, 'lease'],
      [{ client, prefix: 3 }, 'prefix'],
    ]
    for (const [options, option] of cases) {
      let error: unknown
      try {
        new RedisSingleFlight(options as never)
      } catch (caught) {
        error = caught
      }
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).option).toBe(option)
    }
    client.disconnect()
  })
})

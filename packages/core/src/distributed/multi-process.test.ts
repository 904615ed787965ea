import { afterEach, describe, expect, it } from 'vitest'
import { uniquePrefix } from '../../../../tools/test-redis.ts'
import { eventually } from './test-fixtures/helpers.ts'
import type { WorkerConfig } from './test-fixtures/worker.ts'
import { redisTargets, startWorker, type Worker } from './test-fixtures/workers.ts'

interface Stats {
  factoryCalls: number
  flight?: { acquired: number; waited: number; expiredChecks: number; notified: number }
}

describe.each(redisTargets)('several processes on %s', (_label, target) => {
  const workers: Worker[] = []
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.stop()))
  })

  async function start(count: number, lease?: WorkerConfig['lease']): Promise<Worker[]> {
    const prefix = uniquePrefix('procs')
    const config: WorkerConfig = { ...target(), prefix, channel: `${prefix}bus`, lease }
    const started = await Promise.all(Array.from({ length: count }, () => startWorker(config)))
    workers.push(...started)
    return started
  }

  /** The flight counters of `list`, once every one of them has found the lease held (or taken it). */
  async function allAsked(list: Worker[]): Promise<Stats[]> {
    return eventually(async () => {
      const stats = await Promise.all(list.map((worker) => worker.call<Stats>({ cmd: 'stats' })))
      for (const { flight } of stats) expect(flight!.waited + flight!.acquired).toBeGreaterThan(0)
      return stats
    })
  }

  it('runs the factory once for 4 processes x 25 concurrent misses', async () => {
    const list = await start(4, '30s')
    const holder = Promise.any(list.map((worker) => worker.once('factory-started').then(() => worker)))
    const bursts = Promise.all(
      list.map((worker) =>
        worker.call<{ values: string[] }>({ cmd: 'burst', key: 'hot', count: 25, delay: 'until-opened' }),
      ),
    )
    // The factory runs until the three other processes wait on the lease: none can find the value
    // already stored, however late its burst arrives.
    const running = await holder
    const asked = await allAsked(list)
    expect(asked.map((s) => s.flight!.waited).sort()).toEqual([0, 1, 1, 1])
    expect(await running.call({ cmd: 'open' })).toBe('opened')
    const values = new Set((await bursts).flatMap((burst) => burst.values))
    expect(values.size).toBe(1)
    const stats = await Promise.all(list.map((worker) => worker.call<Stats>({ cmd: 'stats' })))
    expect(stats.reduce((sum, s) => sum + s.factoryCalls, 0)).toBe(1)
    expect(stats.reduce((sum, s) => sum + s.flight!.expiredChecks, 0)).toBe(0)
    expect(stats.reduce((sum, s) => sum + s.flight!.notified, 0)).toBe(3)
  })

  it('replaces a holder killed mid-factory with exactly one other process after the lease', async () => {
    const [holder, ...others] = await start(4, '400ms')
    const started = holder!.once('factory-started')
    await holder!.call({ cmd: 'hold', key: 'k' })
    await started
    const bursts = others.map((worker) =>
      worker.call<{ values: string[] }>({ cmd: 'burst', key: 'k', count: 10, delay: 20 }),
    )
    // The others find the lease held before the holder dies.
    await allAsked(others)
    holder!.process.kill('SIGKILL')
    const values = new Set((await Promise.all(bursts)).flatMap((burst) => burst.values))
    expect(values.size).toBe(1)
    const stats = await Promise.all(others.map((worker) => worker.call<Stats>({ cmd: 'stats' })))
    expect(stats.reduce((sum, s) => sum + s.factoryCalls, 0)).toBe(1)
    expect(stats.map((s) => s.flight!.acquired).sort()).toEqual([0, 0, 1])
  })

  it('carries sets, deletes and tag invalidations to the L1 of every other process', async () => {
    const [a, b, c] = await start(3)
    await a!.call({ cmd: 'set', key: 'k', value: 1, tags: ['t'] })
    for (const worker of [b!, c!]) {
      // A's own 'set' message may reach this process after its read and drop the copy just back-filled
      // (one extra miss, never a stale value): read until the copy stays.
      await eventually(async () => {
        expect(await worker.call({ cmd: 'get', key: 'k' })).toBe(1)
        expect(await worker.call({ cmd: 'inL1', key: 'k' })).toBe(true)
      })
    }
    await a!.call({ cmd: 'invalidateTag', tag: 't' })
    for (const worker of [b!, c!]) {
      // Still in memory, but the tag state the bus delivered makes the L1 read miss.
      await eventually(async () => expect(await worker.call({ cmd: 'get', key: 'k' })).toBe(null))
    }
    await b!.call({ cmd: 'set', key: 'j', value: 'x' })
    expect(await c!.call({ cmd: 'get', key: 'j' })).toBe('x')
    await a!.call({ cmd: 'delete', key: 'j' })
    await eventually(async () => expect(await c!.call({ cmd: 'inL1', key: 'j' })).toBe(false))
    expect(await c!.call({ cmd: 'get', key: 'j' })).toBe(null)
  })
})

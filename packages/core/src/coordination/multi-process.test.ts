// Locks and rate limits across Node processes on one real Redis and on a real Redis Cluster: every
// process has its own stack (memory + Redis) and they race on the same keys.
import { afterEach, describe, expect, it } from 'vitest'
import { testClusterNodes, testRedisUrl, uniquePrefix } from '../../../../tools/test-redis.ts'
import type { WorkerConfig } from '../distributed/test-fixtures/worker.ts'
import { redisTargets, startWorker, type Worker } from '../distributed/test-fixtures/workers.ts'

const PROCESSES = 4
const TRIES = 50

describe.each(redisTargets)('locks and rate limits across processes on %s', (_label, target) => {
  const workers: Worker[] = []
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.stop()))
  })

  async function start(count: number): Promise<Worker[]> {
    const prefix = uniquePrefix('coord')
    const config: WorkerConfig = { ...target(), prefix, channel: `${prefix}bus` }
    const started = await Promise.all(Array.from({ length: count }, () => startWorker(config)))
    workers.push(...started)
    return started
  }

  it(`gives a lock to exactly one of ${PROCESSES} processes x ${TRIES} concurrent tries`, async () => {
    const list = await start(PROCESSES)
    for (const key of ['job:a', 'job:b', 'job:c']) {
      const wins = await Promise.all(
        list.map((worker) => worker.call<number>({ cmd: 'lockBurst', key, count: TRIES, ttl: '1m' })),
      )
      expect(wins.reduce((sum, n) => sum + n, 0)).toBe(1)
    }
  })

  it('frees the lock of a holder killed with SIGKILL after its ttl: exactly one waiter takes it', async () => {
    const [holder, ...others] = await start(PROCESSES)
    expect(await holder!.call({ cmd: 'lockBurst', key: 'k', count: 1, ttl: 1500 })).toBe(1)
    holder!.process.kill('SIGKILL')
    // Still held right after the death: nobody gets it at once.
    const now = await Promise.all(
      others.map((worker) => worker.call<number>({ cmd: 'lockBurst', key: 'k', count: 5, ttl: '1m' })),
    )
    expect(now).toEqual([0, 0, 0])
    const later = await Promise.all(
      others.map((worker) =>
        worker.call<number>({ cmd: 'lockBurst', key: 'k', count: 5, ttl: '1m', wait: '4s' }),
      ),
    )
    expect(later.reduce((sum, n) => sum + n, 0)).toBe(1)
  })

  it(`allows exactly the limit for ${PROCESSES} processes x ${TRIES} concurrent requests`, async () => {
    const list = await start(PROCESSES)
    for (const limit of [1, 37, 120]) {
      const allowed = await Promise.all(
        list.map((worker) =>
          worker.call<number>({ cmd: 'rateBurst', key: `api:${limit}`, count: TRIES, limit, window: '1m' }),
        ),
      )
      expect(allowed.reduce((sum, n) => sum + n, 0)).toBe(limit)
    }
  })
})

// Keyspace operations racing from several Node processes on one real Redis and on a real Redis Cluster:
// every increment, push and add counts exactly once.
import { afterEach, describe, expect, it } from 'vitest'
import { testClusterNodes, testRedisUrl, uniquePrefix } from '../../../../tools/test-redis.ts'
import type { WorkerConfig } from '../distributed/test-fixtures/worker.ts'
import { redisTargets, startWorker, type Worker } from '../distributed/test-fixtures/workers.ts'

const PROCESSES = 4
const CALLS = 50

describe.each(redisTargets)('keyspaces across processes on %s', (_label, target) => {
  const workers: Worker[] = []
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.stop()))
  })

  it(`${PROCESSES} processes x ${CALLS} concurrent increments, pushes and adds all count once`, async () => {
    const prefix = uniquePrefix('keyspace-procs')
    const config: WorkerConfig = { ...target(), prefix, channel: `${prefix}bus` }
    workers.push(...(await Promise.all(Array.from({ length: PROCESSES }, () => startWorker(config)))))
    await Promise.all(workers.map((worker) => worker.call({ cmd: 'keyspaceBurst', id_: 'a', count: CALLS })))
    // A reader of its own: the same keys seen from another process.
    const reader = await startWorker(config)
    workers.push(reader)
    const total = PROCESSES * CALLS
    expect(await reader.call({ cmd: 'keyspaceRead', id_: 'a' })).toEqual({
      hits: total,
      score: total / 2,
      log: total,
      distinctLog: total,
      seen: total + 1,
    })
  })
})

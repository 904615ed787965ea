// The parent side of worker.ts: start instances as child processes and talk to them.
import { fileURLToPath } from 'node:url'
import { type Child, startChild } from '../../../../../tools/child-process.ts'
import { testClusterNodes, testRedisUrl } from '../../../../../tools/test-redis.ts'
import type { WorkerCommand, WorkerConfig } from './worker.ts'

const SCRIPT = fileURLToPath(new URL('./worker.ts', import.meta.url))

/** A cache instance running in a child process. */
export type Worker = Child<WorkerCommand>

/** Forks one worker and waits until its stack is ready. */
export function startWorker(config: WorkerConfig): Promise<Worker> {
  return startChild<WorkerCommand>(SCRIPT, config)
}

/** The two servers the multi-process suites race on: one real Redis and a real 3-master Cluster. */
export const redisTargets: [string, () => Pick<WorkerConfig, 'redis' | 'cluster'>][] = [
  ['a single Redis', () => ({ redis: testRedisUrl() })],
  [
    'a Redis Cluster',
    () => ({
      redis: testClusterNodes()
        .map(({ host, port }) => `${host}:${port}`)
        .join(','),
      cluster: true,
    }),
  ],
]

// The parent side of worker.ts: start instances as child processes and talk to them.
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { testClusterNodes, testRedisUrl } from '../../../../../tools/test-redis.ts'
import type { WorkerCommand, WorkerConfig } from './worker.ts'

const SCRIPT = fileURLToPath(new URL('./worker.ts', import.meta.url))

type Body<C> = C extends WorkerCommand ? Omit<C, 'id'> : never

/** A cache instance running in a child process. */
export interface Worker {
  readonly process: ChildProcess
  call<T = unknown>(command: Body<WorkerCommand>): Promise<T>
  /** Resolves when the worker reports `event` (e.g. `factory-started`). */
  once(event: string): Promise<void>
  stop(): Promise<void>
}

/** Forks one worker and waits until its stack is ready. */
export async function startWorker(config: WorkerConfig): Promise<Worker> {
  const child = fork(SCRIPT, [JSON.stringify(config)], {
    execArgv: ['--conditions=@cachestack/source', '--no-warnings'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  let next = 0
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>()
  const listeners = new Map<string, (() => void)[]>()
  child.on('message', (message: { id?: number; result?: unknown; error?: string; event?: string }) => {
    if (message.event) {
      for (const listener of listeners.get(message.event) ?? []) listener()
      listeners.delete(message.event)
      return
    }
    const call = pending.get(message.id!)
    pending.delete(message.id!)
    if (message.error !== undefined) call?.reject(new Error(message.error))
    else call?.resolve(message.result)
  })
  child.on('exit', () => {
    for (const call of pending.values()) call.reject(new Error('worker exited'))
    pending.clear()
  })
  const once = (event: string) =>
    new Promise<void>((resolve) => listeners.set(event, [...(listeners.get(event) ?? []), resolve]))
  const ready = once('ready')
  await Promise.race([
    ready,
    new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)))),
  ])
  return {
    process: child,
    once,
    call: <T>(command: Body<WorkerCommand>) =>
      new Promise<T>((resolve, reject) => {
        const id = next++
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
        child.send({ ...command, id })
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.disconnect()
      await exited
    },
  }
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

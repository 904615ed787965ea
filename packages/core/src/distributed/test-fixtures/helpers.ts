// Shared by the distributed tests and their child-process workers.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import type { Cluster, Redis } from 'ioredis'
import { CacheStack, type CacheStackOptions } from '../../cache-stack.ts'
import { MemoryLayer } from '../../layers/memory-layer.ts'
import { RedisLayer } from '../../layers/redis-layer.ts'
import { RedisBus, type RedisBusOptions } from '../redis-bus.ts'

/** Polls `check` until it holds (returns without throwing), or throws its last error after `timeout` ms. */
export async function eventually<T>(check: () => T | Promise<T>, timeout = 5000): Promise<T> {
  const deadline = Date.now() + timeout
  for (;;) {
    try {
      return await check()
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }
}

/** One instance: a memory L1, a Redis L2 under `prefix`, and a bus on `channel`. */
export function instance(
  client: Redis | Cluster,
  prefix: string,
  channel: string,
  options: Omit<CacheStackOptions, 'bus'> & { bus?: Partial<RedisBusOptions> } = {},
): { stack: CacheStack; bus: RedisBus; memory: MemoryLayer } {
  const { bus: busOptions, ...rest } = options
  const bus = new RedisBus({ client, channel, ...busOptions })
  const memory = new MemoryLayer()
  const layers = [memory, new RedisLayer({ client, prefix })]
  const stack = new CacheStack(layers, { ...rest, bus })
  return { stack, bus, memory }
}

/** Starts a redis-server on a known port (to bring one back on the port its clients know). */
export async function startRedisOn(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  )
  await eventually(() => {
    const out = spawnSync('redis-cli', ['-p', String(port), 'PING'], { encoding: 'utf8' })
    if (out.stdout.trim() !== 'PONG') throw new Error(`redis-server on ${port} is not up`)
  }, 15_000)
  return child
}

/** Kills a server and waits until it is gone. */
export async function killRedis(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const gone = new Promise((resolve) => child.once('exit', resolve))
  child.kill(signal)
  await gone
}

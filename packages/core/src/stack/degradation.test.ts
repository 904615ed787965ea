// Graceful degradation against a real redis-server this file starts, stops, kills and restarts, and
// against a TCP proxy that makes it slow. Real timers: probes run every 100 ms, so each test takes
// well under two seconds.
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { startRedis } from '../../../../tools/test-services.ts'
import { CacheStack } from '../cache-stack.ts'
import { MemoryLayer } from '../layers/memory-layer.ts'
import { RedisLayer } from '../layers/redis-layer.ts'
import type { CacheEvents } from './events.ts'

/** Forwards bytes to `upstream`, each direction in order, after `delay` ms. */
class SlowProxy {
  delay = 0
  upstream: number
  readonly #server: Server
  readonly #sockets = new Set<Socket>()

  constructor(upstream: number) {
    this.upstream = upstream
    this.#server = createServer((client) => {
      const server = connect(this.upstream, '127.0.0.1')
      for (const socket of [client, server]) {
        this.#sockets.add(socket)
        socket.on('close', () => {
          this.#sockets.delete(socket)
          client.destroy()
          server.destroy()
        })
        socket.on('error', () => {})
      }
      this.#pipe(client, server)
      this.#pipe(server, client)
    })
  }

  #pipe(from: Socket, to: Socket): void {
    let last = 0
    from.on('data', (chunk) => {
      const at = Math.max(Date.now() + this.delay, last)
      last = at
      setTimeout(() => to.writable && to.write(chunk), at - Date.now())
    })
  }

  listen(): Promise<number> {
    return new Promise((resolve) => {
      this.#server.listen(0, '127.0.0.1', () => resolve((this.#server.address() as { port: number }).port))
    })
  }

  /** Cuts every open connection (clients reconnect through the proxy to the current upstream). */
  cut(): void {
    for (const socket of this.#sockets) socket.destroy()
  }

  close(): Promise<void> {
    this.cut()
    return new Promise((resolve) => this.#server.close(() => resolve()))
  }
}

const dirs: string[] = []
const processes: ChildProcess[] = []
const cleanups: (() => Promise<unknown> | unknown)[] = []

async function redisServer(dir = mkdtempSync(join(tmpdir(), 'cachestack-degrade-'))) {
  dirs.push(dir)
  // AOF with fsync on every write: a killed server comes back with its data, as a production one would.
  const started = await startRedis(dir, ['--appendonly', 'yes', '--appendfsync', 'always'])
  processes.push(started.process)
  return { ...started, dir }
}

function twoTier(port: number) {
  const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1, retryStrategy: () => 50 })
  client.on('error', () => {})
  const cache = new CacheStack(
    [new MemoryLayer(), new RedisLayer({ client, prefix: 'deg:', commandTimeout: '250ms' })],
    { gracefulDegradation: { retryAfter: '100ms' } },
  )
  const events: string[] = []
  cache.on('layer-degraded', ({ layer }) => events.push(`degraded:${layer}`))
  cache.on('layer-recovered', ({ layer }) => events.push(`recovered:${layer}`))
  cleanups.push(async () => {
    await cache.disconnect()
    client.disconnect()
  })
  return { cache, client, events }
}

function once<E extends keyof CacheEvents>(cache: CacheStack, event: E): Promise<CacheEvents[E]> {
  return new Promise((resolve) => {
    const listener = (payload: CacheEvents[E]) => {
      cache.off(event, listener)
      resolve(payload)
    }
    cache.on(event, listener)
  })
}

/** Fills Redis through one stack, then checks a cold instance sees exactly what it should. */
async function seed(cache: CacheStack): Promise<void> {
  await cache.set('kept', 'kept', { ttl: '1h' })
  await cache.set('rewritten', 'old', { ttl: '1h' })
  await cache.set('deleted', 'old', { ttl: '1h' })
  await cache.set('tagged', 'old', { ttl: '1h', tags: ['t'] })
  await cache.set('ns:a', 'old', { ttl: '1h' })
}

async function changeWhileDown(cache: CacheStack): Promise<void> {
  await cache.set('rewritten', 'new', { ttl: '1h' })
  await cache.delete('deleted')
  await cache.invalidateByTag('t')
  await cache.invalidateByPrefix('ns:')
}

async function expectNoStaleAfterRecovery(port: number): Promise<void> {
  const cold = twoTier(port)
  expect(await cold.cache.get('kept')).toBe('kept')
  // Rewritten while Redis was down: Redis lost its old copy instead of serving it.
  expect(await cold.cache.get('rewritten')).toBeUndefined()
  expect(await cold.cache.get('deleted')).toBeUndefined()
  expect(await cold.cache.get('tagged')).toBeUndefined()
  expect(await cold.cache.get('ns:a')).toBeUndefined()
}

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})
afterAll(() => {
  for (const child of processes) {
    child.kill('SIGCONT')
    child.kill('SIGKILL')
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

describe('graceful degradation with a real redis-server', () => {
  it('a stopped Redis (SIGSTOP) never fails a read memory or the fetcher can answer; it is used again after SIGCONT', async () => {
    const { port, process: server } = await redisServer()
    const { cache, events } = twoTier(port)
    await cache.ready()
    await seed(cache)
    server.kill('SIGSTOP')
    const started = performance.now()
    expect(await cache.get('kept')).toBe('kept')
    expect(await cache.get('cold', () => 'from fetcher')).toBe('from fetcher')
    expect(await cache.get('cold2', () => 'again')).toBe('again')
    await changeWhileDown(cache)
    expect(await cache.get('rewritten')).toBe('new')
    // Generous on purpose (a loaded 2-core run): it only has to fail on a read that waits for Redis.
    expect(performance.now() - started).toBeLessThan(3_000)
    expect(events).toEqual(['degraded:redis'])
    expect(cache.getStats().layers[1]!.degraded).toBe(true)
    const recovered = once(cache, 'layer-recovered')
    server.kill('SIGCONT')
    await recovered
    expect(events).toEqual(['degraded:redis', 'recovered:redis'])
    await cache.set('after', 'written to redis')
    const cold = twoTier(port)
    expect(await cold.cache.get('after')).toBe('written to redis')
    await expectNoStaleAfterRecovery(port)
  })

  it('a killed Redis restarted on its data (behind a proxy) gets the missed changes replayed', async () => {
    const first = await redisServer()
    const proxy = new SlowProxy(first.port)
    const port = await proxy.listen()
    cleanups.push(() => proxy.close())
    const { cache, events } = twoTier(port)
    await cache.ready()
    await seed(cache)
    first.process.kill('SIGKILL')
    await new Promise((resolve) => first.process.once('exit', resolve))
    proxy.cut()
    expect(await cache.get('kept')).toBe('kept')
    expect(await cache.get('cold', () => 'from fetcher')).toBe('from fetcher')
    await changeWhileDown(cache)
    expect(events).toEqual(['degraded:redis'])
    const second = await redisServer(first.dir)
    proxy.upstream = second.port
    await once(cache, 'layer-recovered')
    await expectNoStaleAfterRecovery(port)
  })

  it('a slow Redis (delaying proxy) is skipped after one command timeout and taken back when fast again', async () => {
    const { port: upstream } = await redisServer()
    const proxy = new SlowProxy(upstream)
    const port = await proxy.listen()
    cleanups.push(() => proxy.close())
    const { cache, events } = twoTier(port)
    await cache.ready()
    await seed(cache)
    proxy.delay = 400
    const started = performance.now()
    expect(await cache.get('a', () => 'A')).toBe('A')
    // One command timeout (100 ms), not the 400 ms delay: generous, yet fails if the read waited Redis out.
    expect(performance.now() - started).toBeLessThan(3_000)
    const reads = () => {
      const { hits, misses } = cache.getStats().layers[1]!
      return hits + misses
    }
    const before = reads()
    for (const key of ['b', 'c', 'd'])
      expect(await cache.get(key, () => key.toUpperCase())).toBe(key.toUpperCase())
    // The rest skip Redis: not one read reached the layer (counted by the stack, not by a stopwatch).
    expect(reads()).toBe(before)
    expect(await cache.get('kept')).toBe('kept')
    expect(events).toEqual(['degraded:redis'])
    await changeWhileDown(cache)
    // Still slow: probes time out and the layer stays out.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(events).toEqual(['degraded:redis'])
    proxy.delay = 0
    await once(cache, 'layer-recovered')
    await new Promise((resolve) => setTimeout(resolve, 450))
    await expectNoStaleAfterRecovery(port)
  })
})

// The bench's own Redis: a throwaway `redis-server` on a free loopback port, never 6379, with
// persistence off so disk I/O cannot leak into the numbers. BENCH_REDIS_URL replaces it.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { freePort } from '../../tools/test-services.ts'

export interface BenchRedis {
  readonly url: string
  readonly host: string
  readonly port: number
  readonly db: number
  /** True when the bench started this server (and will stop it). */
  readonly owned: boolean
  readonly version: string
  /** Empties the bench database between scenarios. */
  flush(): Promise<void>
  stop(): Promise<void>
}

async function waitForPong(client: Redis, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      if ((await client.ping()) === 'PONG') return
    } catch (error) {
      if (Date.now() > deadline) throw error
    }
    await new Promise((r) => setTimeout(r, 50))
  }
}

export async function startBenchRedis(url = process.env.BENCH_REDIS_URL): Promise<BenchRedis> {
  let child: ChildProcess | undefined
  let dir: string | undefined
  let target: URL
  if (url) {
    target = new URL(url)
  } else {
    let port = await freePort()
    if (port === 6379) port = await freePort()
    dir = mkdtempSync(join(tmpdir(), 'cachestack-bench-'))
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: 'ignore' },
    )
    child.on('error', (error) => {
      console.error(`bench: could not start redis-server (${error.message}); set BENCH_REDIS_URL instead`)
    })
    target = new URL(`redis://127.0.0.1:${port}`)
  }
  const host = target.hostname
  const port = Number(target.port || 6379)
  const db = Number(target.pathname.slice(1) || 0)
  const control = new Redis({ host, port, db, lazyConnect: true, maxRetriesPerRequest: 1 })
  control.on('error', () => {})
  await control.connect().catch(() => {})
  await waitForPong(control, 10_000)
  const info = await control.info('server')
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown'
  return {
    url: `redis://${host}:${port}/${db}`,
    host,
    port,
    db,
    owned: child !== undefined,
    version,
    async flush() {
      await control.flushdb()
    },
    async stop() {
      await control.quit().catch(() => control.disconnect())
      if (child) {
        const exited = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))])
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      }
      if (dir) rmSync(dir, { recursive: true, force: true })
    },
  }
}

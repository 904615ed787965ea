// Vitest global setup: starts the real servers the suites talk to, on spare loopback ports, and
// hands their addresses to the test workers through environment variables. Nothing here assumes a
// server on a well-known port: a developer's own Redis on 6379 is never touched by the tests.
// Set CACHESTACK_TEST_REDIS_URL / CACHESTACK_TEST_CLUSTER_NODES yourself to reuse running servers.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const started: ChildProcess[] = []
let workDir: string | undefined

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

function which(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (check()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`test services: ${what} did not come up within ${timeoutMs} ms`)
}

function cli(port: number, ...args: string[]): string {
  const out = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8' })
  return out.stdout ?? ''
}

/** Starts one `redis-server` on a free loopback port; returns its port. */
export async function startRedis(
  dir: string,
  extra: string[] = [],
): Promise<{ port: number; process: ChildProcess }> {
  const port = await freePort()
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      ...extra,
    ],
    { stdio: 'ignore' },
  )
  started.push(child)
  await waitFor(() => cli(port, 'PING').trim() === 'PONG', `redis-server on ${port}`)
  return { port, process: child }
}

async function startCluster(dir: string): Promise<number[]> {
  const ports: number[] = []
  for (let i = 0; i < 3; i++) {
    const nodeDir = join(dir, `cluster-${i}`)
    rmSync(nodeDir, { recursive: true, force: true })
    spawnSync('mkdir', ['-p', nodeDir])
    const { port } = await startRedis(nodeDir, [
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(nodeDir, 'nodes.conf'),
      '--cluster-node-timeout',
      '2000',
    ])
    ports.push(port)
  }
  const create = spawnSync(
    'redis-cli',
    [
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ],
    { encoding: 'utf8' },
  )
  if (create.status !== 0)
    throw new Error(`test services: cluster create failed: ${create.stdout}${create.stderr}`)
  await waitFor(
    () => ports.every((p) => cli(p, 'CLUSTER', 'INFO').includes('cluster_state:ok')),
    'the Redis Cluster',
  )
  return ports
}

export async function setup(): Promise<void> {
  if (!which('redis-server')) {
    throw new Error(
      'test services: redis-server is not installed (apt-get install redis-server); .ci/run installs it',
    )
  }
  workDir = mkdtempSync(join(tmpdir(), 'cachestack-test-'))
  if (!process.env.CACHESTACK_TEST_REDIS_URL) {
    const { port } = await startRedis(workDir)
    process.env.CACHESTACK_TEST_REDIS_URL = `redis://127.0.0.1:${port}`
  }
  if (!process.env.CACHESTACK_TEST_CLUSTER_NODES) {
    const ports = await startCluster(workDir)
    process.env.CACHESTACK_TEST_CLUSTER_NODES = ports.map((p) => `127.0.0.1:${p}`).join(',')
  }
  if (!process.env.CACHESTACK_TEST_MEMCACHED && which('memcached')) {
    const port = await freePort()
    const child = spawn('memcached', ['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-u', 'root'], {
      stdio: 'ignore',
    })
    started.push(child)
    process.env.CACHESTACK_TEST_MEMCACHED = `127.0.0.1:${port}`
  }
}

export async function teardown(): Promise<void> {
  for (const child of started) child.kill('SIGKILL')
  started.length = 0
  if (workDir) rmSync(workDir, { recursive: true, force: true })
}

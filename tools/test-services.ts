// Vitest global setup: starts the real servers the suites talk to, on spare loopback ports, and
// hands their addresses to the test workers through environment variables. Nothing here assumes a
// server on a well-known port: a developer's own Redis on 6379 is never touched by the tests.
// Set CACHESTACK_TEST_REDIS_URL / CACHESTACK_TEST_CLUSTER_NODES yourself to reuse running servers.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
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

/** The directory holding `initdb` and `pg_ctl`: on PATH, else Debian's newest /usr/lib/postgresql/<ver>/bin. */
function postgresBinDir(): string | undefined {
  const onPath = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' })
  if (onPath.status === 0 && which('pg_ctl')) return join(onPath.stdout.trim(), '..')
  const base = '/usr/lib/postgresql'
  if (!existsSync(base)) return undefined
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a))
  return versions.length > 0 ? join(base, versions[0]!, 'bin') : undefined
}

let postgres: { pgCtl: string; dataDir: string; root: string; user: string | undefined } | undefined

/** Runs a PostgreSQL binary, as the unprivileged `postgres` user when we are root (initdb refuses root). */
function runPg(user: string | undefined, command: string, args: string[]): ReturnType<typeof spawnSync> {
  const argv = user === undefined ? [command, ...args] : ['runuser', '-u', user, '--', command, ...args]
  return spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 60_000 })
}

/**
 * A private PostgreSQL: `initdb` in a temporary directory (trust auth, no locale), `pg_ctl start` on a
 * spare loopback port with its socket in that directory, and a `cachestack_test` database. Never the
 * machine's own PostgreSQL. Returns the connection URL.
 */
export async function startPostgres(): Promise<string> {
  const bin = postgresBinDir()
  if (bin === undefined) {
    throw new Error(
      'test services: initdb/pg_ctl not found (apt-get install postgresql); .ci/run installs it',
    )
  }
  // Its own temporary directory: when we are root, the `postgres` user must own it (mkdtemp makes it 0700).
  const root = mkdtempSync(join(tmpdir(), 'cachestack-pg-'))
  const dataDir = join(root, 'data')
  const user = process.getuid?.() === 0 ? 'postgres' : undefined
  if (user !== undefined) {
    const id = spawnSync('id', ['-u', user], { encoding: 'utf8' })
    const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' })
    if (id.status !== 0) throw new Error(`test services: running as root needs a "${user}" user for initdb`)
    chownSync(root, Number(id.stdout.trim()), Number(gid.stdout.trim()))
  }
  const init = runPg(user, join(bin, 'initdb'), [
    '-D',
    dataDir,
    '-A',
    'trust',
    '-U',
    'postgres',
    '--no-locale',
    '-E',
    'UTF8',
    '--no-sync',
  ])
  if (init.status !== 0) throw new Error(`test services: initdb failed: ${init.stdout}${init.stderr}`)
  const port = await freePort()
  const pgCtl = join(bin, 'pg_ctl')
  const options = `-h 127.0.0.1 -p ${port} -k ${root} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`
  const start = runPg(user, pgCtl, ['start', '-w', '-D', dataDir, '-l', join(root, 'log'), '-o', options])
  if (start.status !== 0)
    throw new Error(`test services: pg_ctl start failed: ${start.stdout}${start.stderr}`)
  postgres = { pgCtl, dataDir, root, user }
  const { default: pg } = await import('pg')
  const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` })
  await admin.connect()
  await admin.query('CREATE DATABASE cachestack_test')
  await admin.end()
  return `postgres://postgres@127.0.0.1:${port}/cachestack_test`
}

/** Stops the PostgreSQL `startPostgres` started (`pg_ctl stop`) and removes its directory. */
export function stopPostgres(): void {
  if (postgres === undefined) return
  runPg(postgres.user, postgres.pgCtl, ['stop', '-D', postgres.dataDir, '-m', 'immediate', '-w'])
  rmSync(postgres.root, { recursive: true, force: true })
  postgres = undefined
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
  if (!process.env.CACHESTACK_TEST_MEMCACHED) {
    const { port } = await startMemcached()
    process.env.CACHESTACK_TEST_MEMCACHED = `127.0.0.1:${port}`
  }
  if (!process.env.CACHESTACK_TEST_POSTGRES_URL) {
    process.env.CACHESTACK_TEST_POSTGRES_URL = await startPostgres()
  }
}

/**
 * Starts one `memcached` on a free loopback port (UDP off); returns its port and process (the bench stops
 * it by PID; the test run's teardown stops every server it started). The item size limit is 2 MB,
 * just above the layer contract's 1 MB value, so the "value over the item size" test needs only a 3 MB write.
 */
export async function startMemcached(): Promise<{ port: number; process: ChildProcess }> {
  if (!which('memcached')) {
    throw new Error(
      'test services: memcached is not installed (apt-get install memcached); .ci/run installs it',
    )
  }
  const port = await freePort()
  const args = ['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-I', '2m', '-m', '64']
  // memcached refuses to run as root without -u.
  if (process.getuid?.() === 0) args.push('-u', 'root')
  const child = spawn('memcached', args, { stdio: 'ignore' })
  started.push(child)
  await waitFor(() => memcachedAnswers(port), `memcached on ${port}`)
  return { port, process: child }
}

function memcachedAnswers(port: number): boolean {
  const out = spawnSync(
    process.execPath,
    [
      '-e',
      `const s=require('net').connect(${port},'127.0.0.1',()=>s.write('version\\r\\n'));` +
        `s.on('data',d=>{process.stdout.write(String(d));s.destroy()});s.on('error',()=>process.exit(1))`,
    ],
    { encoding: 'utf8', timeout: 2_000 },
  )
  return (out.stdout ?? '').startsWith('VERSION')
}

/**
 * A `redis-server` of the calling test's own, in its own temporary directory, that the test may pause
 * (SIGSTOP: connected but silent, the worst outage) and resume; `stop()` kills it by PID.
 */
export async function startPausableRedis(): Promise<{
  url: string
  pause(): void
  resume(): void
  stop(): void
}> {
  const dir = mkdtempSync(join(tmpdir(), 'cachestack-redis-'))
  const { port, process: child } = await startRedis(dir)
  const signal = (name: NodeJS.Signals) => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
    try {
      process.kill(child.pid, name)
    } catch {
      // Already gone.
    }
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    stop: () => {
      signal('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** A private Prometheus started by `startPrometheus`. */
export interface PrometheusServer {
  /** Base URL of its HTTP API, `http://127.0.0.1:<port>`. */
  url: string
  /** Stops it by PID (SIGTERM, then SIGKILL after 5 s) and removes its data directory. */
  stop(): Promise<void>
}

/**
 * Starts Debian's `prometheus` on a spare loopback port with a temporary data directory, scraping
 * `targets` (`host:port`, path `/metrics`) every `scrapeInterval`. Started by the test file that needs
 * it, not by the global setup, so the rest of the suite does not pay for it. Never the machine's own
 * Prometheus on :9090.
 */
export async function startPrometheus(
  targets: readonly string[],
  scrapeInterval = '1s',
): Promise<PrometheusServer> {
  if (!which('prometheus')) {
    throw new Error(
      'test services: prometheus is not installed (apt-get install prometheus); .ci/run installs it',
    )
  }
  const dir = mkdtempSync(join(tmpdir(), 'cachestack-prometheus-'))
  const config = join(dir, 'prometheus.yml')
  writeFileSync(
    config,
    [
      'global:',
      `  scrape_interval: ${scrapeInterval}`,
      `  scrape_timeout: ${scrapeInterval}`,
      `  evaluation_interval: ${scrapeInterval}`,
      'scrape_configs:',
      '  - job_name: app',
      '    static_configs:',
      `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
      '',
    ].join('\n'),
  )
  const port = await freePort()
  const child = spawn(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: 'ignore' },
  )
  started.push(child)
  const url = `http://127.0.0.1:${port}`
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGTERM')
      const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    }
    rmSync(dir, { recursive: true, force: true })
  }
  const deadline = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null) {
      await stop()
      throw new Error(`test services: prometheus exited with ${child.exitCode}`)
    }
    const ready = await fetch(`${url}/-/ready`).then(
      (response) => response.ok,
      () => false,
    )
    if (ready) return { url, stop }
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`test services: prometheus on ${port} was not ready within 30 s`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

export async function teardown(): Promise<void> {
  for (const child of started) {
    if (child.pid === undefined || child.exitCode !== null) continue
    try {
      process.kill(child.pid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
  started.length = 0
  stopPostgres()
  if (workDir) rmSync(workDir, { recursive: true, force: true })
}

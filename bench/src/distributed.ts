// Several cache instances as separate processes on one machine, one redis-server of our own on a free
// loopback port (never 6379). Prints and saves: invalidation visible on another instance (p50/p99, 2
// and 4 processes), factory calls under a 4 x 250 cold burst, and time to full service after a restart.
// Run: npm run bench:distributed -w bench
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { type Child, startChild } from '../../tools/child-process.ts'
import { freePort } from '../../tools/test-services.ts'
import type { Command } from './distributed-worker.ts'

const WORKER = fileURLToPath(new URL('./distributed-worker.ts', import.meta.url))
const RESULTS = fileURLToPath(new URL('../results/distributed.json', import.meta.url))
const INVALIDATION_ROUNDS = 500
const BURST = { processes: 4, requests: 250, factoryDelay: 50 }

type Worker = Child<Command>

async function startServer(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  )
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 20 })
  probe.on('error', () => {})
  const deadline = Date.now() + 10_000
  for (;;) {
    try {
      if (probe.status !== 'ready') await probe.connect()
      await probe.ping()
      break
    } catch {
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not start`)
      await sleep(10)
    }
  }
  probe.disconnect()
  return child
}

async function killServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGKILL')
  await exited
}

function startWorker(port: number, prefix: string, singleFlight: boolean): Promise<Worker> {
  return startChild<Command>(WORKER, { port, prefix, singleFlight })
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const round = (ms: number) => Math.round(ms * 1000) / 1000

/** Process 0 deletes keys one by one; every other process records when each message reached its L1. */
async function invalidation(port: number, processes: number) {
  const workers = await Promise.all(
    Array.from({ length: processes }, () => startWorker(port, `inv${processes}:`, false)),
  )
  const [writer, ...readers] = workers
  await Promise.all(readers.map((reader) => reader.call({ cmd: 'recordReceives' })))
  const sent = await writer!.call<number[]>({ cmd: 'deleteRounds', rounds: INVALIDATION_ROUNDS, gap: 2 })
  await sleep(200)
  const latencies: number[] = []
  for (const reader of readers) {
    const received = await reader.call<number[]>({ cmd: 'receives' })
    for (let i = 0; i < received.length; i++) latencies.push(received[i]! - sent[i]!)
  }
  await Promise.all(workers.map((worker) => worker.stop()))
  return {
    processes,
    messages: latencies.length,
    p50: round(percentile(latencies, 50)),
    p99: round(percentile(latencies, 99)),
  }
}

/** 4 processes x 250 concurrent getOrSet on one cold key, with and without RedisSingleFlight. */
async function coldBurst(port: number, singleFlight: boolean) {
  const prefix = `burst${singleFlight ? 'sf' : 'local'}:`
  const workers = await Promise.all(
    Array.from({ length: BURST.processes }, () => startWorker(port, prefix, singleFlight)),
  )
  // One burst on another key first: the figure is about a cold cache, not about a cold JIT.
  await Promise.all(
    workers.map((worker) => worker.call({ cmd: 'burst', key: 'warm-up', count: BURST.requests, delay: 1 })),
  )
  const warmUpCalls = await Promise.all(workers.map((worker) => worker.call<number>({ cmd: 'factoryCalls' })))
  const started = performance.now()
  const latencies = (
    await Promise.all(
      workers.map((worker) =>
        worker.call<number[]>({
          cmd: 'burst',
          key: 'cold',
          count: BURST.requests,
          delay: BURST.factoryDelay,
        }),
      ),
    )
  ).flat()
  const wall = performance.now() - started
  const calls = await Promise.all(workers.map((worker) => worker.call<number>({ cmd: 'factoryCalls' })))
  await Promise.all(workers.map((worker) => worker.stop()))
  return {
    singleFlight,
    requests: latencies.length,
    factoryCalls: calls.reduce((sum, n, i) => sum + n - warmUpCalls[i]!, 0),
    wallMs: round(wall),
    p50: round(percentile(latencies, 50)),
    p99: round(percentile(latencies, 99)),
  }
}

/**
 * Kills the server, makes an invalidation during the outage, restarts it on the same port, then
 * measures until a write on A is read back on B through Redis with B's stale L1 copy gone.
 */
async function restart(port: number, dir: string, server: ChildProcess) {
  const [a, b] = await Promise.all([
    startWorker(port, 'restart:', false),
    startWorker(port, 'restart:', false),
  ])
  await a!.call({ cmd: 'set', key: 'kept', value: 'before' })
  await a!.call({ cmd: 'set', key: 'probe', value: -1 })
  for (const key of ['kept', 'probe']) await b!.call({ cmd: 'get', key })
  await killServer(server)
  await a!.call({ cmd: 'delete', key: 'kept' })
  await sleep(1000)
  const restarted = await startServer(port, dir)
  const up = performance.now()
  let attempt = 0
  for (;;) {
    attempt++
    await a!.call({ cmd: 'set', key: 'probe', value: attempt })
    const seen = await b!.call<number | null>({ cmd: 'get', key: 'probe' })
    const degraded =
      (await a!.call<boolean>({ cmd: 'degraded' })) || (await b!.call<boolean>({ cmd: 'degraded' }))
    if (seen === attempt && !degraded) break
    await sleep(10)
  }
  const fullService = performance.now() - up
  const staleServed = (await b!.call<unknown>({ cmd: 'get', key: 'kept' })) === 'before'
  await Promise.all([a!.stop(), b!.stop()])
  return {
    server: restarted,
    result: { fullServiceMs: round(fullService), probes: attempt, staleServedAfter: staleServed },
  }
}

const dir = mkdtempSync(`${tmpdir()}/cachestack-bench-distributed-`)
const port = await freePort()
let server = await startServer(port, dir)
try {
  console.log(
    `distributed bench: redis-server on 127.0.0.1:${port}, ${cpus().length} CPUs, Node ${process.version}`,
  )
  const invalidations = [await invalidation(port, 2), await invalidation(port, 4)]
  for (const row of invalidations) {
    console.log(
      `invalidation visible on another instance, ${row.processes} processes: p50 ${row.p50} ms, p99 ${row.p99} ms (${row.messages} messages)`,
    )
  }
  const bursts = [await coldBurst(port, true), await coldBurst(port, false)]
  for (const row of bursts) {
    console.log(
      `cold burst ${BURST.processes} x ${BURST.requests}, ${row.singleFlight ? 'RedisSingleFlight' : 'per-process dedupe only'}: ${row.factoryCalls} factory calls, wall ${row.wallMs} ms, p50 ${row.p50} ms, p99 ${row.p99} ms`,
    )
  }
  const restarted = await restart(port, dir, server)
  server = restarted.server
  console.log(
    `Redis restart: full service ${restarted.result.fullServiceMs} ms after the server answered (${restarted.result.probes} probes); invalidation made during the outage lost: ${restarted.result.staleServedAfter ? 'YES' : 'no'}`,
  )
  mkdirSync(fileURLToPath(new URL('../results/', import.meta.url)), { recursive: true })
  writeFileSync(
    RESULTS,
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: cpus().length, invalidations, bursts, restart: restarted.result }, null, 2)}\n`,
  )
  console.log(`saved ${RESULTS}`)
} finally {
  await killServer(server).catch(() => {})
  rmSync(dir, { recursive: true, force: true })
}

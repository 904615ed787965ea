// `npm run bench [-- --quick] [--rounds N] [--only hit,miss,...]`: every scenario, one process, one
// Redis. Prints tables and targets; writes bench/results/latest.json.
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { compareRuns, readRun } from './compare.ts'
import {
  contenders,
  heapExtras,
  invalidationExtras,
  memoryReference,
  perCallOptionsExtra,
  readOverBaseline,
  singleFlightExtras,
  writeBehindExtra,
} from './contenders/index.ts'
import type { MeasureOptions } from './harness.ts'
import { describeMachine, formatMachine } from './machine.ts'
import { startBenchRedis } from './redis-server.ts'
import { formatScenario } from './report.ts'
import { afterInvalidationScenario } from './scenarios/after-invalidation.ts'
import { coordinationScenarios } from './scenarios/coordination.ts'
import { diskScenarios } from './scenarios/disk.ts'
import { heapScenario } from './scenarios/heap.ts'
import { hitScenario } from './scenarios/hit.ts'
import { httpScenarios } from './scenarios/http.ts'
import { keyspaceScenarios } from './scenarios/keyspace.ts'
import { memcachedScenarios } from './scenarios/memcached.ts'
import { missScenario } from './scenarios/miss.ts'
import { nestScenarios } from './scenarios/nestjs.ts'
import { otelScenario } from './scenarios/otel.ts'
import { postgresScenarios } from './scenarios/postgres.ts'
import { prometheusScenarios } from './scenarios/prometheus.ts'
import { rpcScenarios } from './scenarios/rpc.ts'
import { stampedeScenario } from './scenarios/stampede.ts'
import { taggedReadScenario, tagInvalidationScenario } from './scenarios/tags.ts'
import type { RunContext, ScenarioResult } from './scenarios/types.ts'
import { evaluateTargets, formatTargets } from './targets.ts'

const QUICK: MeasureOptions = { warmupMs: 25, minTimeMs: 50, maxOps: 300_000 }
const FULL: MeasureOptions = { warmupMs: 150, minTimeMs: 400, maxOps: 3_000_000 }
const GROUPS = [
  'hit',
  'miss',
  'burst',
  'tags',
  'heap',
  'postgres',
  'disk',
  'memcached',
  'http',
  'nestjs',
  'rpc',
  'otel',
  'prometheus',
  'beyond',
] as const

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    only: { type: 'string' },
    out: { type: 'string' },
    save: { type: 'string' },
    compare: { type: 'string' },
  },
})
const quick = args.quick === true
const only = new Set(args.only ? args.only.split(',') : GROUPS)
const rounds = Number(args.rounds ?? 5)
if (!Number.isInteger(rounds) || rounds < 1) throw new TypeError(`--rounds must be a positive integer`)
const outFile =
  args.save ?? args.out ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'results', 'latest.json')
// Read before the run: a missing or unreadable base fails now, not after minutes of measuring.
const base = args.compare === undefined ? undefined : readRun(args.compare)
if (typeof (globalThis as { gc?: unknown }).gc !== 'function') {
  console.warn('bench: run with --expose-gc (npm run bench does); heap numbers are meaningless without it')
}

const started = Date.now()
const redis = await startBenchRedis()
const stopRedis = () => void redis.stop()
process.once('SIGINT', () => {
  stopRedis()
  process.exit(130)
})

const FRAMEWORK_PACKAGES = [
  'express',
  'apicache',
  'fastify',
  '@fastify/caching',
  'hono',
  '@hono/node-server',
  '@nestjs/core',
  '@nestjs/cache-manager',
  '@trpc/server',
  'graphql-yoga',
  '@graphql-yoga/plugin-response-cache',
  'pg',
  'memjs',
  'prom-client',
  '@opentelemetry/sdk-trace',
]
const machine = describeMachine(
  // The frameworks and their caches are measured too (http, nestjs, rpc groups): their versions belong
  // in the record beside the cache libraries'.
  ['ioredis', 'lru-cache', ...contenders.flatMap((c) => c.packages), ...FRAMEWORK_PACKAGES],
  redis.version,
)
console.log(`## cachestack benchmark (${quick ? 'quick' : 'full'}, ${rounds} rounds, rotated order)\n`)
console.log(formatMachine(machine))
for (const c of contenders) if (c.unavailable) console.log(`note: ${c.name} unavailable: ${c.unavailable}`)
console.log('')

const ctx: RunContext = {
  env: { redis, ttlMs: 10 * 60_000 },
  rounds,
  measure: quick ? QUICK : FULL,
  quick,
  // Per-entry heap is flat from ~10k entries up; quick mode keeps the run under 90 s.
  heapEntries: quick ? 10_000 : 100_000,
  log: (message) => console.error(`… ${message}`),
}

const results: ScenarioResult[] = []
async function run(group: (typeof GROUPS)[number], label: string, work: () => Promise<ScenarioResult[]>) {
  if (!only.has(group)) return
  const t0 = Date.now()
  ctx.log(`${label}`)
  const produced = await work()
  for (const scenario of produced) {
    results.push(scenario)
    console.log(`${formatScenario(scenario)}\n`)
  }
  ctx.log(`${label} took ${((Date.now() - t0) / 1000).toFixed(1)} s`)
}

try {
  await run('hit', 'hits: memory', () => hitScenario(ctx, 'memory', [...contenders, perCallOptionsExtra]))
  await run('hit', 'hits: Redis', () => hitScenario(ctx, 'redis', contenders))
  await run('hit', 'hits: two-tier', () => hitScenario(ctx, 'two-tier', [...contenders, memoryReference]))
  await run('miss', 'misses: memory', () => missScenario(ctx, 'memory', contenders))
  await run('miss', 'misses: Redis', () =>
    missScenario(ctx, 'redis', [...contenders, writeBehindExtra, ...singleFlightExtras]),
  )
  await run('miss', 'misses: two-tier', () =>
    missScenario(ctx, 'two-tier', [...contenders, writeBehindExtra, ...singleFlightExtras]),
  )
  await run('burst', 'cold burst, 1 instance', async () => [
    await stampedeScenario(ctx, 1, [...contenders, ...singleFlightExtras]),
  ])
  await run('burst', 'cold burst, 2 instances', async () => [
    await stampedeScenario(ctx, 2, [...contenders, ...singleFlightExtras]),
  ])
  await run('tags', 'tagged reads: memory', () => taggedReadScenario(ctx, 'memory', contenders))
  await run('tags', 'tagged reads: two-tier', () => taggedReadScenario(ctx, 'two-tier', contenders))
  for (const perTag of [10, 10_000]) {
    await run('tags', `tag invalidation, ${perTag} per tag: memory`, async () => [
      await tagInvalidationScenario(ctx, 'memory', contenders, perTag),
    ])
    await run('tags', `tag invalidation, ${perTag} per tag: two-tier`, async () => [
      await tagInvalidationScenario(ctx, 'two-tier', [...contenders, ...invalidationExtras], perTag),
    ])
  }
  await run('tags', 'first read after invalidation: memory', () =>
    afterInvalidationScenario(ctx, 'memory', contenders),
  )
  await run('tags', 'first read after invalidation: two-tier', () =>
    afterInvalidationScenario(ctx, 'two-tier', [...contenders, readOverBaseline]),
  )
  await run('heap', 'heap per entry', async () => [await heapScenario(ctx, [...contenders, ...heapExtras])])
  await run('postgres', 'postgres layer: hit and miss', () => postgresScenarios(ctx))
  await run('disk', 'disk layer: hit and miss', () => diskScenarios(ctx))
  await run('memcached', 'memcached layer: hit and miss', () => memcachedScenarios(ctx))
  await run('beyond', 'locks, rate limits and the Redis budget', () => coordinationScenarios(ctx))
  await run('beyond', 'typed keyspaces', () => keyspaceScenarios(ctx))
  // HTTP scenarios (express / fastify / hono) plug in here; see scenarios/http.ts.
  await run('http', 'http', () => httpScenarios(ctx, contenders))
  await run('nestjs', 'nestjs', () => nestScenarios(ctx))
  await run('rpc', 'trpc and graphql', () => rpcScenarios(ctx))
  // Last: it loads @cachestack/otel and the OpenTelemetry SDK, which nothing before it has.
  await run('otel', 'hit with @cachestack/otel', async () => [await otelScenario(ctx)])
  await run('prometheus', 'hit and scrape with @cachestack/prometheus', () => prometheusScenarios(ctx))
} finally {
  await redis.stop()
}

const targets = evaluateTargets(results)
console.log(formatTargets(targets))
if (base) console.log(`\n${compareRuns(base, { scenarios: results, targets }, args.compare!)}`)
const seconds = (Date.now() - started) / 1000
console.log(`\nfinished in ${seconds.toFixed(1)} s; results in ${outFile}`)

mkdirSync(dirname(outFile), { recursive: true })
writeFileSync(
  outFile,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      mode: quick ? 'quick' : 'full',
      rounds,
      measure: ctx.measure,
      seconds,
      machine,
      scenarios: results,
      targets,
    },
    null,
    2,
  )}\n`,
)
// Some client libraries keep sockets or timers alive after disconnect; the run is over.
process.exit(0)

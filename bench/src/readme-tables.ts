// `npm run readme-tables -w bench -- FILE.json`: the root README's Performance tables, printed from one
// saved run (`npm run bench -- --save FILE.json`), so every figure there comes from the same run and a
// refresh is a paste, not an afternoon of copying numbers by hand.
import { readRun, type SavedRun } from './compare.ts'
import { table } from './report.ts'
import type { Row, ScenarioResult } from './scenarios/types.ts'

const file = process.argv[2]
if (!file) {
  console.error('usage: npm run readme-tables -w bench -- results.json')
  process.exit(2)
}
const run = readRun(file) as SavedRun & { machine?: Machine; mode?: string; rounds?: number }

interface Machine {
  cpu?: string
  cores?: number
  memoryGb?: number
  node?: string
  redis?: string
  packages?: Record<string, string>
  cachestackCommit?: string
}

const scenarios = new Map(run.scenarios.map((s) => [s.id, s]))

function time(ns: number): string {
  return ns < 1_000
    ? `${ns.toFixed(0)} ns`
    : ns < 1e6
      ? `${(ns / 1e3).toFixed(1)} µs`
      : `${(ns / 1e6).toFixed(2)} ms`
}

function row(id: string, contender: string): { scenario: ScenarioResult; row: Row } | undefined {
  const scenario = scenarios.get(id)
  const found = scenario?.rows.find((r) => r.contender === contender)
  return scenario && found ? { scenario, row: found } : undefined
}

/** A row's median in the scenario's unit, or why it has none. */
function cell(id: string, contender: string, bold = false): string {
  const found = row(id, contender)
  if (!found) return '—'
  const { scenario, row: r } = found
  if (r.status !== 'ok' || !r.summary) return r.status === 'unavailable' ? 'n/a' : 'failed'
  const m = r.summary.median
  const text =
    scenario.unit === 'ns/op' ? time(m) : scenario.unit === 'ms' ? `${m.toFixed(1)} ms` : `${m.toFixed(0)} B`
  const calls = r.info?.['factory calls']
  const withCalls = calls === undefined ? text : `${text}, ${String(calls).split('/')[0]} call(s)`
  return bold ? `**${withCalls}**` : withCalls
}

/** Bold when cachestack's median beats every peer's in the scenario. */
function leads(id: string, contender = 'cachestack'): boolean {
  const scenario = scenarios.get(id)
  const ours = row(id, contender)?.row.summary?.median
  if (!scenario || ours === undefined) return false
  const peers = scenario.rows.filter((r) => r.kind === 'peer' && r.status === 'ok' && r.summary)
  return peers.length > 0 && peers.every((p) => ours < p.summary!.median)
}

const PEERS = ['bentocache', 'cacheable', 'cache-manager'] as const

function coreTable(): string {
  const lines: [string, string, string[]][] = [
    ['in-memory hit', 'hit-memory', ['Map', 'lru-cache']],
    ['two-tier hit (served by memory)', 'hit-two-tier', []],
    ['Redis-only hit', 'hit-redis', ['ioredis GET+JSON']],
    ['getOrSet miss, memory', 'miss-memory', ['Map', 'lru-cache']],
    ['getOrSet miss, Redis', 'miss-redis', ['ioredis GET+JSON']],
    ['getOrSet miss, memory + Redis', 'miss-two-tier', []],
    ['1,000 concurrent cold getOrSet, 2 instances', 'cold-burst-2', []],
    ['tagged read, memory', 'tagged-read-memory', []],
    ['tagged read, memory + Redis', 'tagged-read-two-tier', []],
    ['invalidateByTag (10 entries), memory', 'tag-invalidation-memory', []],
    ['invalidateByTag (10,000 entries), memory', 'tag-invalidation-memory-10000', []],
    ['invalidateByTag (10 entries), memory + Redis', 'tag-invalidation-two-tier', []],
    ['invalidateByTag (10,000 entries), memory + Redis', 'tag-invalidation-two-tier-10000', []],
    [
      'first getOrSet after invalidateByTag, memory + Redis',
      'after-invalidation-two-tier',
      ['ioredis GET (old copy or nothing) + SET'],
    ],
    ['heap per entry, 100,000 ~1 KB entries', 'heap-per-entry', ['Map']],
  ]
  const body = lines
    .filter(([, id]) => scenarios.has(id))
    .map(([label, id, floors]) => [
      label,
      cell(id, 'cachestack', leads(id)),
      ...PEERS.map((p) => cell(id, p)),
      floors.map((f) => `${f} ${cell(id, f)}`).join(', ') || '—',
    ])
  return table(['scenario (median)', 'cachestack', ...PEERS, 'floors'], body)
}

/** The rows beside the main one: opt-in modes and the floors they are held to. */
function variantsTable(): string {
  const lines: [string, string, string][] = [
    ['getOrSet miss, Redis', 'miss-redis', 'cachestack (write-behind)'],
    ['getOrSet miss, memory + Redis', 'miss-two-tier', 'cachestack (write-behind)'],
    ['getOrSet miss, Redis', 'miss-redis', 'cachestack + RedisSingleFlight'],
    ['1,000 concurrent cold getOrSet, 2 instances', 'cold-burst-2', 'cachestack + RedisSingleFlight'],
    ['invalidateByTag (10 entries), memory + Redis', 'tag-invalidation-two-tier', 'cachestack + RedisBus'],
    [
      'invalidateByTag (10 entries), memory + Redis',
      'tag-invalidation-two-tier',
      'ioredis SET+PUBLISH pipelined',
    ],
    [
      'invalidateByTag (10,000 entries), memory + Redis',
      'tag-invalidation-two-tier-10000',
      'cachestack + RedisBus',
    ],
    [
      'invalidateByTag (10,000 entries), memory + Redis',
      'tag-invalidation-two-tier-10000',
      'ioredis SET+PUBLISH pipelined',
    ],
    ['plain getOrSet miss beside it, memory + Redis', 'after-invalidation-miss-two-tier', 'cachestack'],
    [
      'plain getOrSet miss beside it, memory + Redis',
      'after-invalidation-miss-two-tier',
      'ioredis GET (old copy or nothing) + SET',
    ],
    ['in-memory hit', 'hit-memory', 'cachestack (get with per-call options)'],
  ]
  const body = lines.filter(([, id, c]) => row(id, c)).map(([label, id, c]) => [label, c, cell(id, c)])
  return table(['scenario', 'row', 'median'], body)
}

/** Requests per second at 32 in flight, and the p99 the load client saw. */
function throughput(id: string, contender: string): string {
  const found = row(id, contender)
  if (!found) return '—'
  const r = found.row
  if (r.status !== 'ok' || !r.summary) return r.status === 'unavailable' ? 'not runnable on Node' : 'failed'
  const perSecond = 1e9 / r.summary.median
  const p99 = r.info?.p99
  const cold = r.info?.['cold calls (500 concurrent)'] ?? r.info?.['cold calls (200 concurrent)']
  return [
    `${(perSecond / 1e3).toFixed(1)}k`,
    p99 === undefined ? undefined : `p99 ${p99}`,
    cold === undefined ? undefined : `cold burst: ${cold} call(s)`,
  ]
    .filter(Boolean)
    .join(', ')
}

function frameworkTable(): string {
  const lines: [string, string, string, string][] = [
    ['Express, ~1 KB JSON', 'http-express-json', 'cachestack', 'apicache'],
    ['Express, 5 ms database call', 'http-express-db', 'cachestack', 'apicache'],
    ['Fastify, ~1 KB JSON', 'http-fastify-json', 'cachestack', '@fastify/caching'],
    ['Fastify, 5 ms database call', 'http-fastify-db', 'cachestack', '@fastify/caching'],
    ['Hono (node-server), ~1 KB JSON', 'http-hono-json', 'cachestack', 'hono/cache'],
    ['Hono (node-server), 5 ms database call', 'http-hono-db', 'cachestack', 'hono/cache'],
    [
      'NestJS (Express), 5 ms data source',
      'nestjs-express-db',
      '@cachestack/nestjs CacheInterceptor',
      '@nestjs/cache-manager CacheInterceptor',
    ],
    [
      'NestJS (Fastify), 5 ms data source',
      'nestjs-fastify-db',
      '@cachestack/nestjs CacheInterceptor',
      '@nestjs/cache-manager CacheInterceptor',
    ],
    ['tRPC (standalone), 5 ms data source', 'trpc-db', '@cachestack/trpc cacheMiddleware', ''],
    [
      'GraphQL (Yoga), 5 ms data source',
      'graphql-db',
      '@cachestack/graphql cacheResolver',
      '@graphql-yoga/plugin-response-cache',
    ],
    [
      'GraphQL (Yoga), whole responses',
      'graphql-db',
      '@graphql-yoga/plugin-response-cache + cachestack store',
      '@graphql-yoga/plugin-response-cache',
    ],
  ]
  const body = lines
    .filter(([, id]) => scenarios.has(id))
    .map(([label, id, ours, peer]) => {
      const scenario = scenarios.get(id)!
      const plain = scenario.rows.find((r) => r.contender.startsWith('no cache'))
      return [
        label,
        throughput(id, ours),
        peer ? `${peer}: ${throughput(id, peer)}` : '—',
        plain ? throughput(id, plain.contender) : '—',
      ]
    })
  return table(['framework, route', 'cachestack', 'peer', 'no cache'], body)
}

/** Every cachestack row of the scenarios that have no peer: stores, coordination, instrumentation. */
function beyondTable(): string {
  const ids = [
    'hit-postgres',
    'miss-postgres',
    'hit-memcached',
    'miss-memcached',
    'hit-disk',
    'miss-disk',
    'lock-release',
    'rate-limit',
    'keyspace-increment',
    'budget-write',
    'otel-hit',
    'prometheus-hit',
    'prometheus-scrape',
  ]
  const body = ids.flatMap((id) => {
    const scenario = scenarios.get(id)
    if (!scenario) return []
    return scenario.rows.map((r, n) => [n === 0 ? `\`${id}\`` : '', r.contender, cell(id, r.contender)])
  })
  return table(['scenario', 'row', 'median'], body)
}

function targetsTable(): string {
  return table(
    ['target', 'status', 'measured'],
    run.targets.map((t) => [t.target, t.status, t.detail ?? '']),
  )
}

const m = run.machine ?? {}
const versions = Object.entries(m.packages ?? {})
  .filter(([name]) => !name.startsWith('@cachestack/'))
  .map(([name, version]) => `${name} ${version}`)
  .join(', ')
console.log(
  [
    `Run: ${run.date ?? 'undated'}, ${run.mode ?? '?'} mode, ${run.rounds ?? '?'} rounds; ${m.cores ?? '?'}-core ${m.cpu ?? '?'} VM, ` +
      `${m.memoryGb ?? '?'} GB, Node ${m.node ?? '?'}, Redis ${m.redis ?? '?'}; cachestack ${m.cachestackCommit ?? '?'}; ${versions}.`,
    '',
    coreTable(),
    '',
    variantsTable(),
    '',
    frameworkTable(),
    '',
    beyondTable(),
    '',
    targetsTable(),
  ].join('\n'),
)

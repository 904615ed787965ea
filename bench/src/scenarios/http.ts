// HTTP scenarios: per framework (Express, Fastify, Hono on @hono/node-server), requests per second and
// p99 latency of one route served warm by cachestack's adapter, by the framework's nearest peer
// middleware, and by the bare handler; plus a static route as the framework's floor. Two workloads:
// a handler doing ~1 KB of JSON work (the cache's own overhead against a cheap handler) and the same
// after a 5 ms simulated database call (where caching pays). Load comes from a worker-thread client
// over keep-alive loopback sockets, CONCURRENCY requests in flight; rounds rotate the order.
import type { Contender, ContenderKind } from '../contenders/index.ts'
import { collectGarbage, rotated, summarize } from '../harness.ts'
import {
  type AppRole,
  DB_MS,
  type Framework,
  type FrameworkApps,
  STATIC_BODY,
  startApps,
  type Workload,
} from '../http-apps.ts'
import { LoadClient, type LoadJob } from '../http-load.ts'
import { describe } from './run-ops.ts'
import type { Row, RunContext, ScenarioResult } from './types.ts'

const CONCURRENCY = 32
const FRAMEWORKS: readonly Framework[] = ['express', 'fastify', 'hono']
const WORKLOADS: readonly Workload[] = ['json', 'db']
const TITLES: Record<Framework, string> = {
  express: 'Express',
  fastify: 'Fastify',
  hono: 'Hono (node-server)',
}
const QUICK_LOAD = { warmupMs: 30, durationMs: 120, maxRequests: 20_000 }
const FULL_LOAD = { warmupMs: 200, durationMs: 1_000, maxRequests: 200_000 }

interface Target {
  apps: FrameworkApps
  workload: Workload
  role: AppRole
  /** `static` measures the plain app's constant route. */
  path: string
  row: Row
  p99: number[]
}

function rowName(apps: FrameworkApps, role: AppRole, path: string): string {
  if (path === '/static') return 'static route (constant string)'
  if (role === 'cachestack') return 'cachestack'
  if (role === 'peer') return apps.peer
  return 'no cache (handler runs)'
}

const KINDS: Record<AppRole, ContenderKind> = { cachestack: 'cachestack', peer: 'peer', plain: 'baseline' }

async function get(
  port: number,
  path: string,
): Promise<{ status: number; body: string; xCache: string | null }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`)
  return { status: res.status, body: await res.text(), xCache: res.headers.get('x-cache') }
}

/** Warms a route and checks it answers what the bare handler answers; returns failures. */
async function checkBefore(target: Target): Promise<string[]> {
  const { apps, role, path } = target
  const app = apps.apps[role]
  const plain = apps.apps.plain
  if (!app || !plain) return ['app not running']
  const expected = await get(plain.port, path)
  if (path === '/static')
    return expected.body === STATIC_BODY ? [] : [`static route answered ${expected.body}`]
  const first = await get(app.port, path)
  const warm = await get(app.port, path)
  const failures: string[] = []
  for (const [label, answer] of [
    ['first', first],
    ['warm', warm],
  ] as const) {
    if (answer.status !== expected.status || answer.body !== expected.body) {
      failures.push(`${label} answer differs from the uncached one (status ${answer.status})`)
    }
  }
  if (role === 'cachestack' && warm.xCache !== 'HIT') failures.push(`warm X-Cache is ${warm.xCache}, not HIT`)
  return failures
}

/** After the rounds: a route that stores responses ran its handler once, whatever the load. */
function checkAfter(target: Target): string[] {
  const { apps, role, workload, path } = target
  if (path === '/static' || role === 'plain') return []
  const calls = apps.counter.get(role, workload)
  target.row.info = { ...target.row.info, 'handler calls': calls }
  const stores = role === 'cachestack' || apps.peerStores
  return stores && calls !== 1 ? [`the handler ran ${calls} times for one cached route`] : []
}

export async function httpScenarios(
  ctx: RunContext,
  _contenders: readonly Contender[],
): Promise<ScenarioResult[]> {
  const load = ctx.quick ? QUICK_LOAD : FULL_LOAD
  const client = new LoadClient()
  const running: FrameworkApps[] = []
  const targets: Target[] = []
  const scenarios: ScenarioResult[] = []
  try {
    for (const framework of FRAMEWORKS) {
      const apps = await startApps(framework, ctx.env.redis)
      running.push(apps)
      for (const workload of WORKLOADS) {
        const scenario: ScenarioResult = {
          id: `http-${framework}-${workload}`,
          title:
            workload === 'json'
              ? `${TITLES[framework]}: GET of a ~1 KB JSON route, ${CONCURRENCY} in flight`
              : `${TITLES[framework]}: GET of a route behind a ${DB_MS} ms database call, ${CONCURRENCY} in flight`,
          unit: 'ns/op',
          rows: [],
          notes: [
            `median = wall time per request with ${CONCURRENCY} in flight (1 / throughput, so ops/s is req/s); p99 = latency of one request under that load`,
            'cachestack on memory + Redis, warm (hits from memory)',
            ...(apps.peerNote ? [apps.peerNote] : []),
          ],
        }
        scenarios.push(scenario)
        const roles: [AppRole, string][] = [
          ['cachestack', `/${workload}`],
          ['peer', `/${workload}`],
          ['plain', `/${workload}`],
          ...(workload === 'json' ? ([['plain', '/static']] as [AppRole, string][]) : []),
        ]
        for (const [role, path] of roles) {
          const row: Row = {
            contender: rowName(apps, role, path),
            kind: KINDS[role],
            status: 'ok',
            failures: [],
            samples: [],
          }
          scenario.rows.push(row)
          if (role === 'peer' && apps.peerUnavailable) {
            Object.assign(row, { status: 'unavailable', failures: [apps.peerUnavailable] })
            continue
          }
          const target: Target = { apps, workload, role, path, row, p99: [] }
          try {
            const failures = await checkBefore(target)
            if (failures.length > 0) Object.assign(row, { status: 'failed', failures })
          } catch (error) {
            Object.assign(row, { status: 'failed', failures: [describe(error)] })
          }
          targets.push(target)
        }
      }
    }

    collectGarbage()
    for (let round = 0; round < ctx.rounds; round++) {
      for (const target of rotated(targets, round)) {
        if (target.row.status !== 'ok') continue
        const port = target.apps.apps[target.role]!.port
        const job: LoadJob = { port, path: target.path, concurrency: CONCURRENCY, ...load }
        collectGarbage('minor')
        try {
          const result = await client.run(job)
          if (result.errors > 0) {
            Object.assign(target.row, {
              status: 'failed',
              failures: [`${result.errors} failed requests (${result.firstError})`],
            })
            continue
          }
          target.row.samples.push(result.nsPerRequest)
          target.p99.push(result.p99Ms)
        } catch (error) {
          Object.assign(target.row, { status: 'failed', failures: [describe(error)] })
        }
      }
    }

    for (const target of targets) {
      const failures = checkAfter(target)
      if (failures.length > 0) Object.assign(target.row, { status: 'failed', failures })
      if (target.row.samples.length > 0) target.row.summary = summarize(target.row.samples)
      if (target.p99.length > 0) {
        target.row.info = { p99: `${summarize(target.p99).median.toFixed(2)} ms`, ...target.row.info }
      }
    }
  } finally {
    await client.close()
    for (const apps of running) await apps.close().catch(() => {})
    await ctx.env.redis.flush()
  }
  ctx.log(`http: ${targets.length} routes, ${CONCURRENCY} in flight, ${load.durationMs} ms samples`)
  return scenarios
}

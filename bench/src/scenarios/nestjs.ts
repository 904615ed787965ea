// NestJS: one app per platform (Express, Fastify) with the same 5 ms data-source route behind
// @cachestack/nestjs's CacheInterceptor, behind @nestjs/cache-manager's CacheInterceptor, and uncached.
// Warm: requests per second and p99 from the worker-thread keep-alive client, 32 in flight. Cold: 500
// concurrent requests for a key nobody asked for yet, and how many times the handler ran for them.
import { Agent, request } from 'node:http'
import { collectGarbage, rotated, summarize } from '../harness.ts'
import { DB_MS } from '../http-apps.ts'
import { LoadClient } from '../http-load.ts'
import {
  NEST_PATHS,
  type NestBenchApp,
  type NestPlatform,
  type NestRoute,
  startNestApp,
} from '../nest-apps.ts'
import { describe } from './run-ops.ts'
import type { Row, RunContext, ScenarioResult } from './types.ts'

const CONCURRENCY = 32
const COLD_BURST = 500
const PLATFORMS: readonly NestPlatform[] = ['express', 'fastify']
const QUICK_LOAD = { warmupMs: 30, durationMs: 120, maxRequests: 20_000 }
const FULL_LOAD = { warmupMs: 200, durationMs: 1_000, maxRequests: 200_000 }
const ROUTES: readonly [NestRoute, string][] = [
  ['cachestack', '@cachestack/nestjs CacheInterceptor'],
  ['cache-manager', '@nestjs/cache-manager CacheInterceptor'],
  ['plain', 'no cache (handler runs)'],
]

interface Target {
  app: NestBenchApp
  route: NestRoute
  row: Row
  p99: number[]
}

function get(
  agent: Agent,
  port: number,
  path: string,
): Promise<{ status: number; body: string; xCache?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, xCache: res.headers['x-cache'] as string | undefined }),
      )
    })
    req.on('error', reject)
    req.end()
  })
}

/** 500 concurrent requests for a fresh key: handler runs, and whether every answer was a 200 with the same body. */
async function coldBurst(
  app: NestBenchApp,
  route: NestRoute,
  round: number,
): Promise<{ calls: number; failures: string[] }> {
  const agent = new Agent({ keepAlive: true, maxSockets: COLD_BURST })
  try {
    const before = app.calls(route)
    const path = `${NEST_PATHS[route]}?k=cold-${round}`
    const answers = await Promise.all(Array.from({ length: COLD_BURST }, () => get(agent, app.port, path)))
    const failures: string[] = []
    const bad = answers.filter((a) => a.status !== 200).length
    if (bad > 0) failures.push(`${bad} of ${COLD_BURST} cold requests failed`)
    return { calls: app.calls(route) - before, failures }
  } finally {
    agent.destroy()
  }
}

async function checkWarm(target: Target): Promise<string[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  try {
    const path = NEST_PATHS[target.route]
    const first = await get(agent, target.app.port, path)
    const warm = await get(agent, target.app.port, path)
    const failures: string[] = []
    if (first.status !== 200 || warm.body !== first.body) failures.push('warm answer differs from the first')
    if (target.route !== 'plain' && warm.xCache !== 'HIT') failures.push(`warm X-Cache is ${warm.xCache}`)
    return failures
  } finally {
    agent.destroy()
  }
}

export async function nestScenarios(ctx: RunContext): Promise<ScenarioResult[]> {
  const load = ctx.quick ? QUICK_LOAD : FULL_LOAD
  const client = new LoadClient()
  const apps: NestBenchApp[] = []
  const targets: Target[] = []
  const scenarios: ScenarioResult[] = []
  try {
    for (const platform of PLATFORMS) {
      const app = await startNestApp(platform)
      apps.push(app)
      const scenario: ScenarioResult = {
        id: `nestjs-${platform}-db`,
        title: `NestJS (${platform === 'express' ? 'Express' : 'Fastify'} platform): GET behind a ${DB_MS} ms data source, ${CONCURRENCY} in flight`,
        unit: 'ns/op',
        rows: [],
        notes: [
          `median = wall time per request with ${CONCURRENCY} in flight (1 / throughput); p99 = latency of one request under that load; both warm`,
          `cold calls = handler runs for ${COLD_BURST} concurrent requests of a key not cached yet (median over rounds)`,
          'both caches in memory in the same app; @nestjs/cache-manager caches the return value only (no status, no headers) and does not coalesce misses',
        ],
      }
      scenarios.push(scenario)
      for (const [route, name] of ROUTES) {
        const row: Row = {
          contender: name,
          kind: route === 'cachestack' ? 'cachestack' : route === 'plain' ? 'baseline' : 'peer',
          status: 'ok',
          failures: [],
          samples: [],
        }
        scenario.rows.push(row)
        const target: Target = { app, route, row, p99: [] }
        try {
          const failures = await checkWarm(target)
          if (failures.length > 0) Object.assign(row, { status: 'failed', failures })
        } catch (error) {
          Object.assign(row, { status: 'failed', failures: [describe(error)] })
        }
        targets.push(target)
      }
    }

    const cold = new Map<Target, number[]>()
    collectGarbage()
    for (let round = 0; round < ctx.rounds; round++) {
      for (const target of rotated(targets, round)) {
        if (target.row.status !== 'ok') continue
        collectGarbage('minor')
        try {
          const result = await client.run({
            port: target.app.port,
            path: NEST_PATHS[target.route],
            concurrency: CONCURRENCY,
            ...load,
          })
          if (result.errors > 0) {
            Object.assign(target.row, {
              status: 'failed',
              failures: [`${result.errors} failed requests (${result.firstError})`],
            })
            continue
          }
          target.row.samples.push(result.nsPerRequest)
          target.p99.push(result.p99Ms)
          if (target.route === 'plain') continue
          const burst = await coldBurst(target.app, target.route, round)
          if (burst.failures.length > 0)
            Object.assign(target.row, { status: 'failed', failures: burst.failures })
          cold.set(target, [...(cold.get(target) ?? []), burst.calls])
        } catch (error) {
          Object.assign(target.row, { status: 'failed', failures: [describe(error)] })
        }
      }
    }

    for (const target of targets) {
      if (target.row.samples.length > 0) target.row.summary = summarize(target.row.samples)
      const info: Record<string, string | number> = {}
      if (target.p99.length > 0) info.p99 = `${summarize(target.p99).median.toFixed(2)} ms`
      const colds = cold.get(target)
      if (colds?.length) info[`cold calls (${COLD_BURST} concurrent)`] = summarize(colds).median
      target.row.info = info
      if (target.route === 'cachestack' && colds?.some((calls) => calls !== 1)) {
        Object.assign(target.row, {
          status: 'failed',
          failures: [`the handler ran ${colds.join(', ')} times for ${COLD_BURST} concurrent cold requests`],
        })
      }
    }
  } finally {
    await client.close()
    for (const app of apps) await app.close().catch(() => {})
  }
  ctx.log(`nestjs: ${targets.length} routes, ${CONCURRENCY} in flight, cold bursts of ${COLD_BURST}`)
  return scenarios
}

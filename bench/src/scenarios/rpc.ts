// tRPC and GraphQL: a cached procedure and a cached resolver against the same uncached, and for GraphQL
// against graphql-yoga's own response-cache plugin on the same schema and query, all over a 5 ms data
// source. Warm: requests per second and p99 from the worker-thread keep-alive client, 32 in flight.
// Cold: 200 concurrent identical requests for a key nobody asked for yet, and how many times the data
// source ran for them.
import { Agent, request } from 'node:http'
import { collectGarbage, rotated, summarize } from '../harness.ts'
import { DB_MS } from '../http-apps.ts'
import { LoadClient } from '../http-load.ts'
import { type RpcApp, type RpcRole, startRpcApp } from '../rpc-apps.ts'
import { describe } from './run-ops.ts'
import type { Row, RunContext, ScenarioResult } from './types.ts'

const CONCURRENCY = 32
const COLD_BURST = 200
const QUICK_LOAD = { warmupMs: 30, durationMs: 120, maxRequests: 20_000 }
const FULL_LOAD = { warmupMs: 200, durationMs: 1_000, maxRequests: 200_000 }
const GROUPS: readonly { id: string; title: string; roles: readonly [RpcRole, string, Row['kind']][] }[] = [
  {
    id: 'trpc-db',
    title: `tRPC (standalone adapter): a query procedure over a ${DB_MS} ms data source, ${CONCURRENCY} in flight`,
    roles: [
      ['trpc-cachestack', '@cachestack/trpc cacheMiddleware', 'cachestack'],
      ['trpc-plain', 'no cache (resolver runs)', 'baseline'],
    ],
  },
  {
    id: 'graphql-db',
    title: `GraphQL (graphql-yoga): one root field over a ${DB_MS} ms data source, ${CONCURRENCY} in flight`,
    roles: [
      ['gql-cachestack', '@cachestack/graphql cacheResolver', 'cachestack'],
      ['gql-yoga-cache', '@graphql-yoga/plugin-response-cache', 'peer'],
      ['gql-yoga-cachestack-store', '@graphql-yoga/plugin-response-cache + cachestack store', 'cachestack'],
      ['gql-plain', 'no cache (resolver runs)', 'baseline'],
    ],
  },
]

interface Target {
  app: RpcApp
  row: Row
  p99: number[]
}

function get(agent: Agent, port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** 200 concurrent identical requests for a fresh key: data-source runs, and whether all answered alike. */
async function coldBurst(app: RpcApp, round: number): Promise<{ calls: number; failures: string[] }> {
  const agent = new Agent({ keepAlive: true, maxSockets: COLD_BURST })
  try {
    const before = app.calls()
    const path = app.path(`cold-${round}`)
    const answers = await Promise.all(Array.from({ length: COLD_BURST }, () => get(agent, app.port, path)))
    const failures: string[] = []
    const bad = answers.filter((a) => a.status !== 200 || a.body !== answers[0]?.body).length
    if (bad > 0) failures.push(`${bad} of ${COLD_BURST} cold answers failed or differed`)
    return { calls: app.calls() - before, failures }
  } finally {
    agent.destroy()
  }
}

export async function rpcScenarios(ctx: RunContext): Promise<ScenarioResult[]> {
  const load = ctx.quick ? QUICK_LOAD : FULL_LOAD
  const client = new LoadClient()
  const targets: Target[] = []
  const scenarios: ScenarioResult[] = []
  try {
    for (const group of GROUPS) {
      const scenario: ScenarioResult = {
        id: group.id,
        title: group.title,
        unit: 'ns/op',
        rows: [],
        notes: [
          `median = wall time per request with ${CONCURRENCY} in flight (1 / throughput); p99 = latency of one request under that load; both warm (GET)`,
          `cold calls = data-source runs for ${COLD_BURST} concurrent identical requests of a key not cached yet (median over rounds)`,
          'caches in memory in the same process; cachestack caches the resolver result (the server still parses, validates and serializes); the Yoga plugin caches the whole execution result, in its own LRU or in a cachestack memory stack (responseCacheStore)',
          ...(group.id === 'graphql-db'
            ? [
                'the Yoga plugin runs every concurrent cold miss (its Cache interface has no factory to share), whichever store is behind it',
              ]
            : []),
        ],
      }
      scenarios.push(scenario)
      for (const [role, name, kind] of group.roles) {
        const row: Row = { contender: name, kind, status: 'ok', failures: [], samples: [] }
        scenario.rows.push(row)
        try {
          targets.push({ app: await startRpcApp(role), row, p99: [] })
        } catch (error) {
          Object.assign(row, { status: 'failed', failures: [describe(error)] })
        }
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
            path: target.app.path('warm'),
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
          const burst = await coldBurst(target.app, round)
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
      if (target.row.summary) info['req/s'] = Math.round(1e9 / target.row.summary.median)
      const colds = cold.get(target)
      if (colds?.length) info[`cold calls (${COLD_BURST} concurrent)`] = summarize(colds).median
      target.row.info = info
      // responseCacheStore sits behind the Yoga plugin, which executes every concurrent miss itself.
      const sharesMisses = target.app.role !== 'gql-yoga-cachestack-store'
      if (target.row.kind === 'cachestack' && sharesMisses && colds?.some((calls) => calls !== 1)) {
        Object.assign(target.row, {
          status: 'failed',
          failures: [`the resolver ran ${colds.join(', ')} times for ${COLD_BURST} concurrent cold requests`],
        })
      }
    }
  } finally {
    await client.close()
    for (const target of targets) await target.app.close().catch(() => {})
  }
  ctx.log(`rpc: ${targets.length} servers, ${CONCURRENCY} in flight, cold bursts of ${COLD_BURST}`)
  return scenarios
}

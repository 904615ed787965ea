// The targets of issue 3, each computed from the medians and marked MET or MISSED.
import { fastestPeer } from './report.ts'
import type { Row, ScenarioResult } from './scenarios/types.ts'

export interface TargetResult {
  target: string
  /** The measured ratio in the target's own terms. */
  measured: number | undefined
  limit: string
  status: 'MET' | 'MISSED'
  detail: string
}

type Lookup = (scenarioId: string, contender: string) => Row | undefined

function median(row: Row | undefined): number | undefined {
  return row?.status === 'ok' ? row.summary?.median : undefined
}

function why(row: Row | undefined, name: string): string {
  if (!row) return `${name} was not measured`
  if (row.status !== 'ok') return `${name} ${row.status}: ${row.failures.join('; ')}`
  return ''
}

function check(
  target: string,
  limit: string,
  measured: number | undefined,
  pass: (r: number) => boolean,
  rows: [Row | undefined, string][],
  describe: (r: number) => string,
): TargetResult {
  if (measured === undefined || !Number.isFinite(measured)) {
    const reason =
      rows
        .map(([row, name]) => why(row, name))
        .filter(Boolean)
        .join('; ') || 'not measured'
    return { target, measured: undefined, limit, status: 'MISSED', detail: reason }
  }
  return { target, measured, limit, status: pass(measured) ? 'MET' : 'MISSED', detail: describe(measured) }
}

export function evaluateTargets(scenarios: readonly ScenarioResult[]): TargetResult[] {
  const byId = new Map(scenarios.map((s) => [s.id, s]))
  const find: Lookup = (id, contender) => byId.get(id)?.rows.find((r) => r.contender === contender)
  const cs = (id: string) => find(id, 'cachestack')
  const x = (r: number) => `${r.toFixed(2)}x`

  const memHit = cs('hit-memory')
  const hitScenario = byId.get('hit-memory')
  const peer = hitScenario ? fastestPeer(hitScenario) : undefined
  const lru = find('hit-memory', 'lru-cache')
  const twoTier = cs('hit-two-tier')
  const redisHit = cs('hit-redis')
  const rawGet = find('hit-redis', 'ioredis GET+JSON')
  const redisMiss = cs('miss-redis')
  const rawGetSet = find('miss-redis', 'ioredis GET+JSON')
  const tagged = cs('tagged-read-two-tier')
  const untagged = cs('untagged-read-two-tier')
  const heap = cs('heap-per-entry')
  const map = find('heap-per-entry', 'Map')
  const div = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? undefined : a / b

  return [
    check(
      'in-memory hit >= 5x the fastest peer',
      '>= 5.00x (speed)',
      div(median(peer), median(memHit)),
      (r) => r >= 5,
      [
        [memHit, 'cachestack'],
        [peer, 'fastest peer'],
      ],
      (r) => `${x(r)} ${peer?.contender ?? ''} (cachestack ${ns(median(memHit))} vs ${ns(median(peer))})`,
    ),
    check(
      'in-memory hit >= 20% of an awaited lru-cache get',
      '>= 0.20x (speed)',
      div(median(lru), median(memHit)),
      (r) => r >= 0.2,
      [
        [memHit, 'cachestack'],
        [lru, 'lru-cache'],
      ],
      (r) => `${x(r)} (cachestack ${ns(median(memHit))} vs lru-cache ${ns(median(lru))})`,
    ),
    check(
      'two-tier hit >= 0.95x the in-memory hit',
      '>= 0.95x (speed)',
      div(median(memHit), median(twoTier)),
      (r) => r >= 0.95,
      [
        [twoTier, 'cachestack two-tier'],
        [memHit, 'cachestack memory'],
      ],
      (r) => `${x(r)} (two-tier ${ns(median(twoTier))} vs memory ${ns(median(memHit))})`,
    ),
    check(
      'Redis-only hit <= 1.1x the time of raw ioredis GET + JSON.parse',
      '<= 1.10x (time)',
      div(median(redisHit), median(rawGet)),
      (r) => r <= 1.1,
      [
        [redisHit, 'cachestack'],
        [rawGet, 'ioredis'],
      ],
      (r) => `${x(r)} (cachestack ${ns(median(redisHit))} vs raw ${ns(median(rawGet))})`,
    ),
    check(
      'getOrSet miss on Redis <= 1.15x the time of raw GET + SET',
      '<= 1.15x (time)',
      div(median(redisMiss), median(rawGetSet)),
      (r) => r <= 1.15,
      [
        [redisMiss, 'cachestack'],
        [rawGetSet, 'ioredis'],
      ],
      (r) => `${x(r)} (cachestack ${ns(median(redisMiss))} vs raw ${ns(median(rawGetSet))})`,
    ),
    check(
      'tagged read on memory+Redis <= 1.2x the time of an untagged read',
      '<= 1.20x (time)',
      div(median(tagged), median(untagged)),
      (r) => r <= 1.2,
      [
        [tagged, 'cachestack tagged'],
        [untagged, 'cachestack untagged'],
      ],
      (r) => `${x(r)} (tagged ${ns(median(tagged))} vs untagged ${ns(median(untagged))})`,
    ),
    check(
      'heap per entry <= a Map holding the same objects',
      '<= 1.00x (bytes)',
      div(median(heap), median(map)),
      (r) => r <= 1,
      [
        [heap, 'cachestack'],
        [map, 'Map'],
      ],
      (r) =>
        `${x(r)} (cachestack ${median(heap)?.toFixed(0)} B vs Map ${median(map)?.toFixed(0)} B per entry)`,
    ),
  ]
}

function ns(v: number | undefined): string {
  if (v === undefined) return '?'
  return v < 1_000 ? `${v.toFixed(0)} ns` : `${(v / 1_000).toFixed(2)} µs`
}

export function formatTargets(targets: readonly TargetResult[]): string {
  const lines = targets.map(
    (t) =>
      `${t.status === 'MET' ? 'MET   ' : 'MISSED'}  ${t.target.padEnd(66)} limit ${t.limit.padEnd(17)} ${t.detail}`,
  )
  return ['### Targets (issue 3)', ...lines].join('\n')
}

// The targets of issue 3, each computed from the medians and marked MET or MISSED.
import { fastestPeer } from './report.ts'
import { OTEL_ROWS } from './scenarios/otel.ts'
import type { Row, ScenarioResult } from './scenarios/types.ts'

export interface TargetResult {
  target: string
  /** The measured ratio in the target's own terms (medians over rounds). */
  measured: number | undefined
  /** The same ratio from each side's best round: how the target looks with the least noise. */
  bestRounds: number | undefined
  limit: string
  /** NOT RUN: the scenario was left out (`--only`). */
  status: 'MET' | 'MISSED' | 'NOT RUN'
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

function best(row: Row | undefined): number | undefined {
  return row?.status === 'ok' ? row.summary?.min : undefined
}

/** `a / b` from medians and from each side's best round, checked against `pass`. */
function check(
  target: string,
  limit: string,
  [a, b]: [Row | undefined, Row | undefined],
  pass: (r: number) => boolean,
  names: [string, string],
  describe: (r: number) => string,
): TargetResult {
  const div = (x: number | undefined, y: number | undefined) =>
    x === undefined || y === undefined ? undefined : x / y
  const measured = div(median(a), median(b))
  const bestRounds = div(best(a), best(b))
  if (a === undefined && b === undefined) {
    return { target, measured: undefined, bestRounds: undefined, limit, status: 'NOT RUN', detail: '' }
  }
  if (measured === undefined || !Number.isFinite(measured)) {
    const reason = [why(a, names[0]), why(b, names[1])].filter(Boolean).join('; ') || 'not measured'
    return { target, measured: undefined, bestRounds: undefined, limit, status: 'MISSED', detail: reason }
  }
  const detail = `${describe(measured)}; best rounds ${bestRounds?.toFixed(2)}x`
  return { target, measured, bestRounds, limit, status: pass(measured) ? 'MET' : 'MISSED', detail }
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
  // Measured in the same rounds as the two-tier hit (see memoryReference).
  const memHitSameRounds = find('hit-two-tier', 'cachestack (memory only)')
  const redisHit = cs('hit-redis')
  const rawGet = find('hit-redis', 'ioredis GET+JSON')
  const redisMiss = cs('miss-redis')
  const rawGetSet = find('miss-redis', 'ioredis GET+JSON')
  const tagged = cs('tagged-read-two-tier')
  const untagged = cs('untagged-read-two-tier')
  const otelOff = find('otel-hit', OTEL_ROWS.off)
  const otelSampledOut = find('otel-hit', OTEL_ROWS.sampledOut)
  const heap = cs('heap-per-entry')
  const map = find('heap-per-entry', 'Map')

  return [
    check(
      'in-memory hit >= 5x the fastest peer',
      '>= 5.00x (speed)',
      [peer, memHit],
      (r) => r >= 5,
      ['fastest peer', 'cachestack'],
      (r) => `${x(r)} ${peer?.contender ?? ''} (cachestack ${ns(median(memHit))} vs ${ns(median(peer))})`,
    ),
    check(
      'in-memory hit >= 20% of an awaited lru-cache get',
      '>= 0.20x (speed)',
      [lru, memHit],
      (r) => r >= 0.2,
      ['lru-cache', 'cachestack'],
      (r) => `${x(r)} (cachestack ${ns(median(memHit))} vs lru-cache ${ns(median(lru))})`,
    ),
    check(
      'two-tier hit >= 0.95x the in-memory hit',
      '>= 0.95x (speed)',
      [memHitSameRounds, twoTier],
      (r) => r >= 0.95,
      ['cachestack (memory only)', 'cachestack two-tier'],
      (r) =>
        `${x(r)} (two-tier ${ns(median(twoTier))} vs memory ${ns(median(memHitSameRounds))}, same rounds)`,
    ),
    check(
      'Redis-only hit <= 1.1x the time of raw ioredis GET + JSON.parse',
      '<= 1.10x (time)',
      [redisHit, rawGet],
      (r) => r <= 1.1,
      ['cachestack', 'ioredis'],
      (r) => `${x(r)} (cachestack ${ns(median(redisHit))} vs raw ${ns(median(rawGet))})`,
    ),
    check(
      'getOrSet miss on Redis <= 1.15x the time of raw GET + SET',
      '<= 1.15x (time)',
      [redisMiss, rawGetSet],
      (r) => r <= 1.15,
      ['cachestack', 'ioredis'],
      (r) => `${x(r)} (cachestack ${ns(median(redisMiss))} vs raw ${ns(median(rawGetSet))})`,
    ),
    check(
      'tagged read on memory+Redis <= 1.2x the time of an untagged read',
      '<= 1.20x (time)',
      [tagged, untagged],
      (r) => r <= 1.2,
      ['cachestack tagged', 'cachestack untagged'],
      (r) => `${x(r)} (tagged ${ns(median(tagged))} vs untagged ${ns(median(untagged))})`,
    ),
    check(
      'in-memory hit, instrumentCache + sampler dropping all <= 1.5x an uninstrumented hit (issue 14)',
      '<= 1.50x (time)',
      [otelSampledOut, otelOff],
      (r) => r <= 1.5,
      ['sampled out', 'uninstrumented'],
      (r) => `${x(r)} (sampled out ${ns(median(otelSampledOut))} vs uninstrumented ${ns(median(otelOff))})`,
    ),
    check(
      'heap per entry <= a Map holding the same objects',
      '<= 1.00x (bytes)',
      [heap, map],
      (r) => r <= 1,
      ['cachestack', 'Map'],
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
    (t) => `${t.status.padEnd(7)} ${t.target.padEnd(66)} limit ${t.limit.padEnd(17)} ${t.detail}`,
  )
  return ['### Targets (issue 3)', ...lines].join('\n')
}

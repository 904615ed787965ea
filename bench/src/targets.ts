// The targets of issues 3 and 18, each computed from the medians and marked MET or MISSED.
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
  const peerOf = (id: string) => {
    const scenario = byId.get(id)
    return scenario ? fastestPeer(scenario) : undefined
  }
  const twoTierMiss = cs('miss-two-tier')
  const writeBehindMiss = find('miss-redis', 'cachestack (write-behind)')
  const invalidation = (id: string, bytes: string) => {
    const ours = find(id, 'cachestack + RedisBus')
    const raw = find(id, 'ioredis SET+PUBLISH pipelined')
    return check(
      `invalidateByTag, memory+Redis+bus, ${bytes}/tag <= 1.5x raw SET+PUBLISH pipelined`,
      '<= 1.50x (time)',
      [ours, raw],
      (r) => r <= 1.5,
      ['cachestack + RedisBus', 'raw SET+PUBLISH'],
      (r) => `${x(r)} (cachestack ${ns(median(ours))} vs raw ${ns(median(raw))})`,
    )
  }
  const memoryInvalidation = (id: string, bytes: string) => {
    const ours = cs(id)
    return check(
      `invalidateByTag, memory only, ${bytes}/tag <= 5 µs`,
      '<= 5000 ns',
      [ours, ours && { ...ours, summary: ours.summary && { ...ours.summary, median: 5_000, min: 5_000 } }],
      (r) => r <= 1,
      ['cachestack', 'limit'],
      () => `${ns(median(ours))}; best round ${ns(best(ours))}`,
    )
  }
  const afterInvalidation = (tier: string) => {
    const first = cs(`after-invalidation-${tier}`)
    const plain = cs(`after-invalidation-miss-${tier}`)
    return check(
      `first read after invalidation, ${tier} <= a plain miss`,
      '<= 1.00x (time)',
      [first, plain],
      (r) => r <= 1,
      ['after invalidation', 'plain miss'],
      (r) => `${x(r)} (after invalidation ${ns(median(first))} vs plain miss ${ns(median(plain))})`,
    )
  }

  // The two-tier first read beside its floor: how much more than a plain miss it costs, against how much
  // more a raw GET of the invalidated copy + SET costs than a GET of nothing + SET, in the same rounds.
  const excessOver = (first: Row | undefined, plain: Row | undefined): Row | undefined => {
    const a = first?.summary
    const b = plain?.summary
    if (!first || !a || !b) return first
    return { ...first, summary: { ...a, median: a.median / b.median, min: a.min / b.min } }
  }
  const floorName = 'ioredis GET (old copy or nothing) + SET'
  const ourExcess = excessOver(cs('after-invalidation-two-tier'), cs('after-invalidation-miss-two-tier'))
  const floorExcess = excessOver(
    find('after-invalidation-two-tier', floorName),
    find('after-invalidation-miss-two-tier', floorName),
  )

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
      'in-memory hit >= 60% of an awaited lru-cache get (issue 18)',
      '>= 0.60x (speed)',
      [lru, memHit],
      (r) => r >= 0.6,
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
      'getOrSet miss on Redis ahead of every peer',
      '>= 1.00x (speed)',
      [peerOf('miss-redis'), redisMiss],
      (r) => r >= 1,
      ['fastest peer', 'cachestack'],
      (r) => `${x(r)} ${peerOf('miss-redis')?.contender ?? ''} (cachestack ${ns(median(redisMiss))})`,
    ),
    check(
      'getOrSet miss on memory+Redis ahead of every peer',
      '>= 1.00x (speed)',
      [peerOf('miss-two-tier'), twoTierMiss],
      (r) => r >= 1,
      ['fastest peer', 'cachestack'],
      (r) => `${x(r)} ${peerOf('miss-two-tier')?.contender ?? ''} (cachestack ${ns(median(twoTierMiss))})`,
    ),
    check(
      'write-behind getOrSet miss on Redis ~ one round trip (<= 0.65x raw GET + SET)',
      '<= 0.65x (time)',
      [writeBehindMiss, rawGetSet],
      (r) => r <= 0.65,
      ['cachestack (write-behind)', 'ioredis'],
      (r) =>
        `${x(r)} (write-behind ${ns(median(writeBehindMiss))} vs raw GET + SET ${ns(median(rawGetSet))})`,
    ),
    memoryInvalidation('tag-invalidation-memory', '10'),
    memoryInvalidation('tag-invalidation-memory-10000', '10,000'),
    invalidation('tag-invalidation-two-tier', '10'),
    invalidation('tag-invalidation-two-tier-10000', '10,000'),
    afterInvalidation('memory'),
    afterInvalidation('two-tier'),
    check(
      "first read after invalidation, two-tier: its excess over a plain miss <= the raw floor's",
      '<= 1.00x (time)',
      [ourExcess, floorExcess],
      (r) => r <= 1,
      ['cachestack', 'raw GET + SET'],
      (r) =>
        `${x(r)} (cachestack ${x(median(ourExcess) ?? Number.NaN)} a plain miss, raw GET of the old copy + SET ${x(median(floorExcess) ?? Number.NaN)} a GET of nothing + SET)`,
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
  return ['### Targets (issues 3 and 18)', ...lines].join('\n')
}

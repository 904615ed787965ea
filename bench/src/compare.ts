// `--compare BASE.json`: each target's ratio and each cachestack row (median, and its ratio to the
// fastest peer) next to the same figure in a saved run (`--save FILE`, or any results/latest.json), so
// a regression shows up in review. Only what both runs measured is compared.
import { readFileSync } from 'node:fs'
import { fastestPeer, ratio, table } from './report.ts'
import type { ScenarioResult } from './scenarios/types.ts'
import type { TargetResult } from './targets.ts'

/** What `compareRuns` reads from a results file. */
export interface SavedRun {
  date?: string
  machine?: { cachestackCommit?: string }
  scenarios: ScenarioResult[]
  targets: TargetResult[]
}

/** Reads a results file written by the bench; throws a one-line error when it is not one. */
export function readRun(path: string): SavedRun {
  let run: SavedRun
  try {
    run = JSON.parse(readFileSync(path, 'utf8')) as SavedRun
  } catch (error) {
    throw new Error(`--compare ${path}: cannot read it (${(error as Error).message.split('\n')[0]})`)
  }
  if (!Array.isArray(run?.scenarios) || !Array.isArray(run.targets)) {
    throw new Error(`--compare ${path}: not a bench results file (no scenarios/targets)`)
  }
  return run
}

const fmt = (v: number | undefined) => (v === undefined ? '—' : `${v.toFixed(2)}x`)

/** `now / base` as a signed percentage; for times a negative change is an improvement. */
function change(base: number | undefined, now: number | undefined): string {
  if (base === undefined || now === undefined || base === 0) return '—'
  const pct = (now / base - 1) * 100
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%`
}

function time(ns: number | undefined): string {
  if (ns === undefined) return '—'
  return ns < 1_000
    ? `${ns.toFixed(0)} ns`
    : ns < 1e6
      ? `${(ns / 1e3).toFixed(2)} µs`
      : `${(ns / 1e6).toFixed(2)} ms`
}

export function compareRuns(
  base: SavedRun,
  now: Pick<SavedRun, 'scenarios' | 'targets'>,
  label: string,
): string {
  const out = [
    `### Compared with ${label} (${base.date ?? 'undated'}, cachestack @ ${base.machine?.cachestackCommit ?? '?'})`,
  ]
  const baseTargets = new Map(base.targets.map((t) => [t.target, t]))
  const targetRows = now.targets.flatMap((t) => {
    const b = baseTargets.get(t.target)
    if (!b || t.measured === undefined || b.measured === undefined) return []
    return [
      [
        t.target,
        fmt(b.measured),
        fmt(t.measured),
        change(b.measured, t.measured),
        `${b.status} → ${t.status}`,
      ],
    ]
  })
  if (targetRows.length > 0) {
    out.push('', table(['target', 'base', 'now', 'change', 'status'], targetRows))
  }
  const baseScenarios = new Map(base.scenarios.map((s) => [s.id, s]))
  const rows: string[][] = []
  for (const scenario of now.scenarios) {
    const before = baseScenarios.get(scenario.id)
    if (!before) continue
    const peerNow = fastestPeer(scenario)
    const peerBefore = fastestPeer(before)
    for (const row of scenario.rows) {
      if (row.kind !== 'cachestack' || row.status !== 'ok' || !row.summary) continue
      const old = before.rows.find((r) => r.contender === row.contender && r.status === 'ok' && r.summary)
      if (!old) continue
      const vsNow = peerNow ? ratio(scenario, row, peerNow) : undefined
      const vsBefore = peerBefore ? ratio(before, old, peerBefore) : undefined
      rows.push([
        scenario.id,
        row.contender,
        scenario.unit === 'ns/op' ? time(old.summary!.median) : old.summary!.median.toFixed(1),
        scenario.unit === 'ns/op' ? time(row.summary.median) : row.summary.median.toFixed(1),
        change(old.summary!.median, row.summary.median),
        `${fmt(vsBefore)} → ${fmt(vsNow)}`,
      ])
    }
  }
  if (rows.length > 0) {
    out.push(
      '',
      table(['scenario', 'row', 'base median', 'now median', 'change', 'vs fastest peer (base → now)'], rows),
      'median change: negative = faster (for bytes/entry: smaller). Compare runs made in the same mode on the same machine.',
    )
  }
  if (out.length === 1) out.push('nothing in common with the base run (other --only groups?)')
  return out.join('\n')
}

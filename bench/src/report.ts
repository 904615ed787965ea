// Text tables: medians, spreads over rounds, and ratios against the fastest peer and the baselines.
import type { Row, ScenarioResult } from './scenarios/types.ts'

const BASELINES = ['Map', 'lru-cache', 'ioredis GET+JSON']

/**
 * How `row` compares with `ref`, as a number where bigger is better for the row: for times, how many
 * times faster (ref / row); for heap, the row's size relative to the reference (row / ref).
 */
export function ratio(scenario: ScenarioResult, row: Row, ref: Row): number | undefined {
  const a = row.summary?.median
  const b = ref.summary?.median
  if (a === undefined || b === undefined || a <= 0 || b <= 0) return undefined
  return scenario.unit === 'bytes/entry' ? a / b : b / a
}

export function fastestPeer(scenario: ScenarioResult): Row | undefined {
  const peers = scenario.rows.filter((r) => r.kind === 'peer' && r.status === 'ok' && r.summary)
  return peers.sort((a, b) => a.summary!.median - b.summary!.median)[0]
}

function formatValue(scenario: ScenarioResult, v: number): string {
  switch (scenario.unit) {
    case 'ns/op':
      return v < 1_000
        ? `${v.toFixed(0)} ns`
        : v < 1_000_000
          ? `${(v / 1_000).toFixed(2)} µs`
          : `${(v / 1e6).toFixed(2)} ms`
    case 'ms':
      return `${v.toFixed(1)} ms`
    case 'bytes/entry':
      return `${v.toFixed(0)} B`
  }
}

function opsPerSecond(ns: number): string {
  const ops = 1e9 / ns
  if (ops >= 1e6) return `${(ops / 1e6).toFixed(2)}M/s`
  if (ops >= 1e3) return `${(ops / 1e3).toFixed(1)}k/s`
  return `${ops.toFixed(0)}/s`
}

function formatRatio(r: number | undefined): string {
  return r === undefined
    ? '—'
    : r >= 100
      ? `${r.toFixed(0)}x`
      : r >= 10
        ? `${r.toFixed(1)}x`
        : `${r.toFixed(2)}x`
}

export function table(head: string[], body: string[][]): string {
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((row) => (row[c] ?? '').length)))
  const line = (cells: string[]) => `| ${cells.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n')
}

export function formatScenario(scenario: ScenarioResult): string {
  const peer = fastestPeer(scenario)
  const baselines = scenario.rows.filter((r) => BASELINES.includes(r.contender) && r.status === 'ok')
  const ranked = scenario.rows
    .filter((r) => r.status === 'ok' && r.summary)
    .sort((a, b) => a.summary!.median - b.summary!.median)
  const timeUnit = scenario.unit === 'ns/op'
  const head = [
    '#',
    'contender',
    ...(timeUnit ? ['ops/s'] : []),
    'median',
    'min – max',
    'IQR ±%',
    'vs fastest peer',
    ...baselines.map((b) => `vs ${b.contender}`),
    'notes',
  ]
  const body = scenario.rows
    .slice()
    .sort((a, b) => rank(a) - rank(b))
    .map((row) => {
      const s = row.summary
      const ok = row.status === 'ok' && s !== undefined
      const notes = [
        ...(row.status !== 'ok' ? [`${row.status.toUpperCase()}: ${row.failures.join('; ')}`] : []),
        ...Object.entries(row.info ?? {}).map(([k, v]) => `${k}: ${v}`),
      ].join('; ')
      return [
        ok ? String(ranked.indexOf(row) + 1) : '-',
        row.contender,
        ...(timeUnit ? [ok ? opsPerSecond(s.median) : ''] : []),
        ok ? formatValue(scenario, s.median) : '',
        ok ? `${formatValue(scenario, s.min)} – ${formatValue(scenario, s.max)}` : '',
        ok ? `±${(((s.q3 - s.q1) / 2 / s.median) * 100).toFixed(1)}%` : '',
        ok && peer && peer !== row
          ? formatRatio(ratio(scenario, row, peer))
          : ok && peer === row
            ? '(fastest)'
            : '—',
        ...baselines.map((b) => (ok && b !== row ? formatRatio(ratio(scenario, row, b)) : '—')),
        notes,
      ]
    })
  function rank(row: Row): number {
    const i = ranked.indexOf(row)
    return i === -1 ? 1_000 : i
  }
  const legend =
    scenario.unit === 'bytes/entry'
      ? 'ratios: size relative to the reference (< 1 = smaller)'
      : 'ratios: times faster than the reference (> 1 = faster)'
  return [
    `### ${scenario.title}  [${scenario.id}]`,
    table(head, body),
    `${legend}; median over rounds; only passing contenders are ranked.${scenario.notes.length ? ` ${scenario.notes.join('; ')}.` : ''}`,
  ].join('\n')
}

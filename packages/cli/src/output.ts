/** What a command prints: one JSON document with `--json`, else lines for a person. */
export interface Report {
  readonly json: unknown
  readonly text: readonly string[]
}

/** Writes a report to stdout. */
export function print(report: Report, json: boolean): void {
  if (json) process.stdout.write(`${JSON.stringify(report.json)}\n`)
  else if (report.text.length > 0) process.stdout.write(`${report.text.join('\n')}\n`)
}

/** `1234567` → `1,234,567`. */
export function count(n: number): string {
  return n.toLocaleString('en-US')
}

/** `12.3 s`, `450 ms`, `forever`, for ttl figures. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return 'forever'
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`
}

// Draws the Grafana dashboard's panels as one SVG from Prometheus range-query results: the picture in
// packages/prometheus/README.md, plotted from the real-Prometheus test's own data. Regenerate with
// `npm run dashboard-picture` (runs that test with CACHESTACK_DASHBOARD_PICTURE set). No dependency:
// polylines, a few labels and a legend are all a picture of time series needs.

/** One line of a panel: `[unix seconds, value]` points (NaN gaps allowed). */
export interface PictureSeries {
  name: string
  points: readonly (readonly [number, number])[]
}

/** One panel as Grafana shows it: its title, its unit, its series; `stat` panels print the last value big. */
export interface PicturePanel {
  title: string
  unit: string
  stat?: boolean
  /** A log10 value axis (Grafana's `scaleDistribution: { type: 'log' }`): latencies from µs to s. */
  log?: boolean
  series: readonly PictureSeries[]
}

const WIDTH = 560
const HEIGHT = 250
const GAP = 16
const PLOT = { left: 64, right: 16, top: 34, bottom: 64 }
const COLORS = ['#73bf69', '#f2cc0c', '#5794f2', '#ff780a', '#f2495c', '#b877d9', '#8ab8ff', '#fade2a']

/** The whole picture: panels in a grid of `columns`, under a title line. */
export function renderDashboardSvg(title: string, panels: readonly PicturePanel[], columns = 2): string {
  const rows = Math.ceil(panels.length / columns)
  const width = columns * WIDTH + (columns + 1) * GAP
  const height = 44 + rows * (HEIGHT + GAP)
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Inter, Helvetica, Arial, sans-serif" role="img">`,
    `<title>${escapeXml(title)}: ${escapeXml(panels.map((panel) => panel.title).join(', '))}</title>`,
    `<rect width="${width}" height="${height}" fill="#111217"/>`,
    `<text x="${GAP}" y="28" fill="#ccccdc" font-size="18" font-weight="600">${escapeXml(title)}</text>`,
  ]
  panels.forEach((panel, i) => {
    const x = GAP + (i % columns) * (WIDTH + GAP)
    const y = 44 + Math.floor(i / columns) * (HEIGHT + GAP)
    parts.push(`<g transform="translate(${x},${y})">${renderPanel(panel)}</g>`)
  })
  parts.push('</svg>')
  return `${parts.join('\n')}\n`
}

function renderPanel(panel: PicturePanel): string {
  const out = [
    `<rect width="${WIDTH}" height="${HEIGHT}" rx="4" fill="#181b1f" stroke="#2c3235"/>`,
    `<text x="12" y="22" fill="#ccccdc" font-size="14" font-weight="600">${escapeXml(panel.title)}</text>`,
  ]
  const shown = (v: number) => Number.isFinite(v) && (!panel.log || v > 0)
  const all = panel.series.flatMap((s) => s.points).filter(([, v]) => shown(v))
  if (all.length === 0) {
    out.push(`<text x="${WIDTH / 2}" y="${HEIGHT / 2}" fill="#8e8e8e" text-anchor="middle">No data</text>`)
    return out.join('')
  }
  const t0 = Math.min(...all.map(([t]) => t))
  const t1 = Math.max(t0 + 1, ...all.map(([t]) => t))
  const plotW = WIDTH - PLOT.left - PLOT.right
  const plotH = HEIGHT - PLOT.top - PLOT.bottom
  const sx = (t: number) => PLOT.left + ((t - t0) / (t1 - t0)) * plotW
  const axis = valueAxis(
    all.map(([, v]) => v),
    panel.log === true,
  )
  const sy = (v: number) => PLOT.top + plotH - axis.position(v) * plotH
  for (const value of axis.ticks) {
    const gy = sy(value)
    out.push(
      `<line x1="${PLOT.left}" x2="${WIDTH - PLOT.right}" y1="${gy.toFixed(1)}" y2="${gy.toFixed(1)}" stroke="#2c3235"/>`,
      `<text x="${PLOT.left - 6}" y="${(gy + 4).toFixed(1)}" fill="#8e8e8e" font-size="10" text-anchor="end">${escapeXml(format(value, panel.unit))}</text>`,
    )
  }
  for (let g = 0; g <= 4; g++) {
    const t = t0 + ((t1 - t0) * g) / 4
    out.push(
      `<text x="${sx(t).toFixed(1)}" y="${PLOT.top + plotH + 14}" fill="#8e8e8e" font-size="10" text-anchor="middle">${Math.round(t - t0)}s</text>`,
    )
  }
  panel.series.forEach((series, i) => {
    const color = COLORS[i % COLORS.length]!
    for (const run of finiteRuns(series.points, shown)) {
      const points = run.map(([t, v]) => `${sx(t).toFixed(1)},${sy(v).toFixed(1)}`).join(' ')
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${points}"/>`)
    }
  })
  if (panel.stat) {
    const last = lastFinite(panel.series[0]?.points ?? [])
    if (last !== undefined) {
      out.push(
        `<text x="${WIDTH - 20}" y="26" fill="#73bf69" font-size="22" font-weight="700" text-anchor="end">${escapeXml(format(last, panel.unit))}</text>`,
      )
    }
  }
  panel.series.slice(0, 8).forEach((series, i) => {
    const lx = 12 + (i % 4) * 136
    const ly = HEIGHT - 30 + Math.floor(i / 4) * 14
    out.push(
      `<rect x="${lx}" y="${ly - 8}" width="10" height="3" fill="${COLORS[i % COLORS.length]}"/>`,
      `<text x="${lx + 14}" y="${ly - 4}" fill="#ccccdc" font-size="10">${escapeXml(truncate(series.name, 22))}</text>`,
    )
  })
  return out.join('')
}

/** Where values sit on the axis (0 bottom, 1 top) and the values of its grid lines. */
function valueAxis(
  values: readonly number[],
  log: boolean,
): { position(v: number): number; ticks: number[] } {
  if (log) {
    const low = Math.floor(Math.log10(Math.min(...values)))
    const high = Math.max(low + 1, Math.ceil(Math.log10(Math.max(...values))))
    const ticks: number[] = []
    for (let e = low; e <= high; e++) ticks.push(10 ** e)
    return { position: (v) => (Math.log10(v) - low) / (high - low), ticks }
  }
  const top = niceCeiling(Math.max(...values))
  const bottom = Math.min(0, ...values)
  const ticks = [0, 1, 2, 3, 4].map((g) => bottom + ((top - bottom) * g) / 4)
  return { position: (v) => (v - bottom) / (top - bottom || 1), ticks }
}

/** Consecutive points worth drawing: a NaN (no rate yet, an empty histogram) breaks the line. */
function finiteRuns(
  points: readonly (readonly [number, number])[],
  shown: (value: number) => boolean,
): (readonly [number, number])[][] {
  const runs: (readonly [number, number])[][] = []
  let run: (readonly [number, number])[] = []
  for (const point of points) {
    if (shown(point[1])) run.push(point)
    else if (run.length > 0) {
      runs.push(run)
      run = []
    }
  }
  if (run.length > 0) runs.push(run)
  return runs.filter((r) => r.length > 1)
}

function lastFinite(points: readonly (readonly [number, number])[]): number | undefined {
  for (let i = points.length - 1; i >= 0; i--) if (Number.isFinite(points[i]![1])) return points[i]![1]
  return undefined
}

/** 1, 2 or 5 times a power of ten at or above `value` (0 stays 1, so a flat zero line still has an axis). */
function niceCeiling(value: number): number {
  if (!(value > 0)) return 1
  const power = 10 ** Math.floor(Math.log10(value))
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power
  return 10 * power
}

/** A value in Grafana's way for the units the dashboard uses. */
export function format(value: number, unit: string): string {
  switch (unit) {
    case 'percentunit':
      return `${(value * 100).toFixed(value === 1 || value === 0 ? 0 : 1)}%`
    case 's':
      if (value === 0) return '0'
      if (value < 0.001) return `${round(value * 1e6)} µs`
      if (value < 1) return `${round(value * 1e3)} ms`
      return `${round(value)} s`
    case 'bytes':
      if (value >= 1 << 20) return `${round(value / (1 << 20))} MiB`
      if (value >= 1 << 10) return `${round(value / (1 << 10))} KiB`
      return `${round(value)} B`
    case 'reqps':
    case 'ops':
      return `${short(value)}/s`
    default:
      return short(value)
  }
}

function short(value: number): string {
  const abs = Math.abs(value)
  if (abs >= 1e6) return `${round(value / 1e6)}M`
  if (abs >= 1e3) return `${round(value / 1e3)}k`
  return `${round(value)}`
}

function round(value: number): string {
  return String(Number(value.toPrecision(3)))
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!)
}

// A real scrape: Debian's prometheus (started here, not in the global setup, so no other test file pays
// for it) scrapes two instances of an app every second while traffic runs; the test reads its HTTP API.
// Then every PromQL query of the Grafana dashboard is evaluated against it and must return data, and
// the panels are plotted from its range queries (the README's picture, written when
// CACHESTACK_DASHBOARD_PICTURE is set: `npm run dashboard-picture`).
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type PicturePanel, renderDashboardSvg } from '../../../tools/dashboard-picture.ts'
import { type PrometheusServer, startPrometheus, startRedis } from '../../../tools/test-services.ts'
import {
  type AppInstance,
  PrometheusApi,
  type PromSeries,
  runTraffic,
  startInstance,
  until,
} from './scrape.fixture.ts'

const DASHBOARD = new URL('../grafana/cachestack.json', import.meta.url)
const PICTURE = new URL('../../../docs/images/grafana-dashboard.svg', import.meta.url)
/** How long the picture's traffic runs after the first scrape (two and a half cycles of its phases). */
const PICTURE_SECONDS = 50

interface DashboardTarget {
  expr: string
  legendFormat?: string
}
interface DashboardPanel {
  title: string
  type: string
  datasource?: { uid?: string }
  fieldConfig?: { defaults?: { unit?: string; custom?: { scaleDistribution?: { type?: string } } } }
  targets: DashboardTarget[]
}
interface Dashboard {
  __inputs: { name: string; type: string; pluginId: string }[]
  schemaVersion: number
  panels: DashboardPanel[]
  templating: { list: { name: string; query: { query: string } | string }[] }
}

/** Grafana's `${name}` form of a variable (built, so it never reads as a mistaken template literal). */
const grafanaVariable = (name: string) => '$' + '{' + name + '}'

/** A query with the dashboard's variables replaced as Grafana would for the `catalog` stack. */
function concrete(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '10s')
    .replaceAll('$__interval', '5s')
    .replaceAll(grafanaVariable('cache'), 'catalog')
    .replaceAll('$cache', 'catalog')
}

let workDir: string
let redis: ChildProcess
let prometheus: PrometheusServer
let api: PrometheusApi
let instances: AppInstance[] = []
let traffic: { stop(): Promise<void> } | undefined

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'cachestack-scrape-'))
  // A Redis of our own: the traffic pauses it (SIGSTOP) to show a degraded layer.
  const own = await startRedis(workDir)
  redis = own.process
  const url = `redis://127.0.0.1:${own.port}`
  instances = [await startInstance(url), await startInstance(url)]
  await Promise.all(instances.map(({ cache }) => cache.ready()))
  prometheus = await startPrometheus(instances.map((instance) => instance.target))
  api = new PrometheusApi(prometheus.url)
  traffic = runTraffic(instances, redis)
}, 60_000)

afterAll(async () => {
  await traffic?.stop()
  await Promise.all(instances.map((instance) => instance.close()))
  await prometheus?.stop()
  if (redis?.pid !== undefined && redis.exitCode === null) process.kill(redis.pid, 'SIGKILL')
  rmSync(workDir, { recursive: true, force: true })
}, 60_000)

const sumOf = (series: PromSeries[]) => series.reduce((total, s) => total + Number(s.value?.[1] ?? 0), 0)

describe('a real Prometheus scraping two app instances', () => {
  it('finds every series family of both instances, and sees them move as traffic runs', async () => {
    const families = [
      'cachestack_hits_total',
      'cachestack_stale_hits_total',
      'cachestack_misses_total',
      'cachestack_layer_misses_total',
      'cachestack_layer_errors_total',
      'cachestack_stale_serves_total',
      'cachestack_sets_total',
      'cachestack_deletes_total',
      'cachestack_invalidations_total',
      'cachestack_factory_runs_total',
      'cachestack_factory_errors_total',
      'cachestack_background_refreshes_total',
      'cachestack_coalesced_waiters_total',
      'cachestack_bus_messages_total',
      'cachestack_layer_degraded',
      'cachestack_layer_items',
      'cachestack_layer_bytes',
      'cachestack_refreshes_in_flight',
      'cachestack_bus_connected',
      'cachestack_operation_duration_seconds_bucket',
    ]
    const found = await until('every family scraped from both instances', async () => {
      const series = await api.series('{cache="catalog"}')
      const byFamily = new Map<string, Set<string>>()
      for (const labels of series) {
        const instances = byFamily.get(labels.__name__!) ?? new Set()
        instances.add(labels.instance!)
        byFamily.set(labels.__name__!, instances)
      }
      const missing = families.filter((family) => byFamily.get(family)?.size !== 2)
      if (missing.length > 0) throw new Error(`missing: ${missing.join(', ')}`)
      return byFamily
    })
    expect([...found.keys()]).toEqual(expect.arrayContaining(families))
    // Layers by name, never keys: the hits series carry only these label values.
    const layers = new Set((await api.series('cachestack_hits_total')).map((labels) => labels.layer))
    expect([...layers].sort()).toEqual(['memory', 'redis'])
    // Thousands of keys (product:, cold:, burst:, flaky:) and a few tags went through: none is a label value.
    const values = (await api.series('{__name__=~"cachestack_.*"}')).flatMap((labels) =>
      Object.entries(labels)
        .filter(([name]) => name !== 'instance')
        .map(([, value]) => value),
    )
    expect(values.filter((value) => /product|cold|burst|flaky|promotions/.test(value))).toEqual([])

    const moving = [
      'cachestack_hits_total',
      'cachestack_misses_total',
      'cachestack_factory_runs_total',
      'cachestack_operation_duration_seconds_count',
    ]
    const first = await Promise.all(moving.map(async (name) => sumOf(await api.query(`sum(${name})`))))
    await until('the counters moving between scrapes', async () => {
      const now = await Promise.all(moving.map(async (name) => sumOf(await api.query(`sum(${name})`))))
      return now.every((value, i) => value > first[i]!) ? now : undefined
    })
    const received = await until('bus messages received by the other instance', async () => {
      const value = sumOf(await api.query('sum(cachestack_bus_messages_total{direction="received"})'))
      return value > 0 ? value : undefined
    })
    expect(received).toBeGreaterThan(0)
  }, 90_000)

  it('evaluates every query of the Grafana dashboard against it, and each returns data', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard
    // Importable as is: the datasource is an input, every panel uses it, the schema is a current one.
    expect(dashboard.__inputs).toEqual([
      expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }),
    ])
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39)
    const expressions = dashboard.panels.flatMap((panel) => {
      expect(panel.datasource?.uid).toBe(grafanaVariable('DS_PROMETHEUS'))
      return panel.targets.map((target) => ({ panel: panel.title, expr: concrete(target.expr) }))
    })
    expect(expressions.length).toBeGreaterThanOrEqual(15)
    for (const { expr } of expressions) expect(expr).not.toContain('$')
    const variable = dashboard.templating.list.find((v) => v.name === 'cache')!
    const variableQuery = typeof variable.query === 'string' ? variable.query : variable.query.query
    const metric = /label_values\((\w+), cache\)/.exec(variableQuery)?.[1]
    expect(metric).toBeDefined()
    expect(
      (await api.series(metric!)).map((labels) => labels.cache),
      'the cache variable lists the stack',
    ).toContain('catalog')

    for (const { panel, expr } of expressions) {
      const result = await until(`"${panel}": ${expr} returning data`, async () => {
        const series = await api.query(expr)
        return series.some((s) => Number.isFinite(Number(s.value?.[1]))) ? series : undefined
      })
      expect(result.length, `${panel}: ${expr}`).toBeGreaterThan(0)
    }
  }, 120_000)

  it('plots the panels from its own range queries', async () => {
    // Prometheus scrapes for the first time ~5 s after it is ready (its target discovery syncs on a 5 s
    // tick): the picture starts at the first scrape. Generating it, traffic runs PICTURE_SECONDS first.
    const first = await until('the first scrape', async () => {
      const stamps = await api.query('min(timestamp(up))')
      return stamps.length > 0 ? Number(stamps[0]!.value![1]) : undefined
    })
    if (process.env.CACHESTACK_DASHBOARD_PICTURE !== undefined) {
      await until(
        "the picture's traffic",
        async () => (Date.now() / 1000 > first + PICTURE_SECONDS ? true : undefined),
        (PICTURE_SECONDS + 10) * 1000,
      )
    }
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard
    const panels = await until('every panel plotted from range queries', async () => {
      const end = Date.now() / 1000
      const plotted: PicturePanel[] = []
      for (const panel of dashboard.panels) {
        const series = []
        for (const target of panel.targets) {
          for (const s of await api.queryRange(concrete(target.expr), first, end, 1)) {
            series.push({
              name: legend(target.legendFormat ?? '', s.metric),
              points: (s.values ?? []).map(([t, v]) => [t, Number(v)] as const),
            })
          }
        }
        // A line needs two points: poll until each panel has one.
        const drawable = series.some((line) => line.points.filter(([, v]) => Number.isFinite(v)).length >= 2)
        if (!drawable) throw new Error(`nothing to draw yet for "${panel.title}"`)
        plotted.push({
          title: panel.title,
          unit: panel.fieldConfig?.defaults?.unit ?? 'short',
          stat: panel.type === 'stat',
          log: panel.fieldConfig?.defaults?.custom?.scaleDistribution?.type === 'log',
          series,
        })
      }
      return plotted
    })
    const svg = renderDashboardSvg(
      'cachestack — two instances, memory + Redis + bus (real Prometheus)',
      panels,
    )
    for (const panel of panels) expect(svg).toContain(`>${panel.title}<`)
    expect(svg.match(/<polyline /g)?.length ?? 0).toBeGreaterThanOrEqual(panels.length)
    if (process.env.CACHESTACK_DASHBOARD_PICTURE !== undefined) writeFileSync(PICTURE, svg)
  }, 120_000)
})

/** Grafana's legend: `{{label}}` replaced by the series' label value. */
function legend(format: string, labels: Record<string, string>): string {
  return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => labels[name] ?? '')
}

// Shared driver for the per-operation scenarios: create one instance per contender, check it, then
// run rounds in which every (contender, variant) pair is measured once in a rotated order.
import type { CacheAdapter, Contender, Tier } from '../contenders/index.ts'
import { collectGarbage, measure, rotated, summarize } from '../harness.ts'
import type { Row, RunContext, ScenarioResult } from './types.ts'

export interface Variant {
  id: string
  title: string
  notes?: string[]
  /** The measured operation; `round` lets a variant use fresh keys every round. */
  op(adapter: CacheAdapter, round: number): (i: number) => unknown
  /** Untimed work after each sample (e.g. dropping the keys a miss scenario created). */
  after?(adapter: CacheAdapter, round: number): Promise<void>
}

export interface OpScenario {
  tier: Tier
  contenders: readonly Contender[]
  createOptions?: { tags?: boolean }
  variants: readonly Variant[]
  /** Untimed: fill the instance. */
  setup?(adapter: CacheAdapter): Promise<void>
  /** Returns failures (empty when correct) and facts for the report. */
  check(adapter: CacheAdapter, phase: 'before' | 'after'): Promise<{ failures: string[]; info?: Row['info'] }>
}

interface Live {
  contender: Contender
  adapter?: CacheAdapter | undefined
  rows: Row[]
}

export async function runOpScenario(ctx: RunContext, scenario: OpScenario): Promise<ScenarioResult[]> {
  const live: Live[] = []
  for (const contender of scenario.contenders) {
    // cachestack always gets a row, so a missing tier shows up as "unavailable" instead of vanishing.
    if (!contender.tiers.includes(scenario.tier) && contender.kind !== 'cachestack') continue
    const rows = scenario.variants.map<Row>(() => ({
      contender: contender.name,
      kind: contender.kind,
      status: 'ok',
      failures: [],
      samples: [],
    }))
    const entry: Live = { contender, rows }
    live.push(entry)
    const unavailable =
      contender.unavailable ??
      (contender.tiers.includes(scenario.tier) ? undefined : `no ${scenario.tier} tier yet`)
    if (unavailable) {
      for (const row of rows) Object.assign(row, { status: 'unavailable', failures: [unavailable] })
      continue
    }
    try {
      entry.adapter = await contender.create(scenario.tier, ctx.env, {
        prefix: `bench-${contender.name.replace(/\W+/g, '-')}`,
        maxItems: 200_000,
        tags: scenario.createOptions?.tags ?? false,
      })
      await scenario.setup?.(entry.adapter)
      const { failures, info } = await scenario.check(entry.adapter, 'before')
      for (const row of rows) {
        row.info = info
        if (failures.length > 0) Object.assign(row, { status: 'failed', failures })
      }
    } catch (error) {
      for (const row of rows) Object.assign(row, { status: 'failed', failures: [describe(error)] })
    }
  }

  collectGarbage()
  const pairs = live.flatMap((entry) => scenario.variants.map((variant, v) => ({ entry, variant, v })))
  for (let round = 0; round < ctx.rounds; round++) {
    for (const { entry, variant, v } of rotated(pairs, round)) {
      const row = entry.rows[v]!
      if (!entry.adapter || row.status !== 'ok') continue
      collectGarbage('minor')
      try {
        const sample = await measure(variant.op(entry.adapter, round), ctx.measure)
        row.samples.push(sample.nsPerOp)
        await variant.after?.(entry.adapter, round)
      } catch (error) {
        Object.assign(row, { status: 'failed', failures: [describe(error)] })
      }
    }
  }

  for (const entry of live) {
    if (!entry.adapter) continue
    if (entry.rows.some((row) => row.status === 'ok')) {
      const { failures } = await scenario.check(entry.adapter, 'after').catch((error) => ({
        failures: [describe(error)],
      }))
      if (failures.length > 0) {
        for (const row of entry.rows) Object.assign(row, { status: 'failed', failures })
      }
    }
    await entry.adapter.close().catch(() => {})
  }
  await ctx.env.redis.flush()

  return scenario.variants.map((variant, v) => ({
    id: variant.id,
    title: variant.title,
    tier: scenario.tier,
    unit: 'ns/op',
    notes: variant.notes ?? [],
    rows: live.map((entry) => {
      const row = entry.rows[v]!
      return row.samples.length > 0 ? { ...row, summary: summarize(row.samples) } : row
    }),
  }))
}

export function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message.split('\n')[0]}` : String(error)
}

/** Untimed setup: runs `work(0..count-1)` 32 at a time, so filling Redis does not take seconds. */
export async function inChunks(count: number, work: (i: number) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < count; start += 32) {
    const end = Math.min(count, start + 32)
    const batch: Promise<unknown>[] = []
    for (let i = start; i < end; i++) batch.push(work(i))
    await Promise.all(batch)
  }
}

// Heap per entry: heapUsed after a full GC, before and after writing N distinct ~1 KB records (each
// freshly parsed, as from a database), divided by N. The Map row holds exactly those objects, so it
// is "the objects plus a hash slot"; a cache that copies keeps its copy and lets the original go.
import type { Contender } from '../contenders/index.ts'
import { collectGarbage, rotated, summarize } from '../harness.ts'
import { deepEqual, makeValue } from '../value.ts'
import { describe } from './run-ops.ts'
import type { Row, RunContext, ScenarioResult } from './types.ts'

export async function heapScenario(
  ctx: RunContext,
  contenders: readonly Contender[],
): Promise<ScenarioResult> {
  const entries = ctx.heapEntries
  const rounds = ctx.quick ? 2 : 3
  const rows = new Map<Contender, Row>()
  for (const contender of contenders) {
    if (!contender.tiers.includes('memory')) continue
    const row: Row = {
      contender: contender.name,
      kind: contender.kind,
      status: 'ok',
      failures: [],
      samples: [],
    }
    if (contender.unavailable)
      Object.assign(row, { status: 'unavailable', failures: [contender.unavailable] })
    rows.set(contender, row)
  }
  for (let round = 0; round < rounds; round++) {
    for (const [contender, row] of rotated([...rows], round)) {
      if (row.status !== 'ok') continue
      try {
        const adapter = await contender.create('memory', ctx.env, {
          prefix: 'heap',
          maxItems: entries * 2,
        })
        collectGarbage()
        const before = process.memoryUsage().heapUsed
        for (let i = 0; i < entries; i++) await adapter.set(`heap:${i}`, makeValue(i))
        collectGarbage()
        const after = process.memoryUsage().heapUsed
        row.samples.push((after - before) / entries)
        const last = entries - 1
        if (!deepEqual(await adapter.get(`heap:${last}`), makeValue(last))) {
          Object.assign(row, { status: 'failed', failures: [`entry ${last} was not held`] })
        }
        if (!deepEqual(await adapter.get('heap:0'), makeValue(0))) {
          Object.assign(row, { status: 'failed', failures: ['entry 0 was evicted'] })
        }
        await adapter.close()
      } catch (error) {
        Object.assign(row, { status: 'failed', failures: [describe(error)] })
      }
      collectGarbage()
    }
  }
  for (const row of rows.values()) if (row.samples.length > 0) row.summary = summarize(row.samples)
  return {
    id: 'heap-per-entry',
    title: `heap per entry, ${entries.toLocaleString('en-US')} entries of ~1 KB (memory tier)`,
    tier: 'memory',
    unit: 'bytes/entry',
    rows: [...rows.values()],
    notes: [
      'heapUsed delta after global.gc(); the Map row holds the very objects written (no copy)',
      `${rounds} rounds`,
    ],
  }
}

// Heap per entry: heapUsed after a full GC, before and after writing N distinct ~1 KB records (each
// freshly parsed, as from a database), divided by N. The Map row holds exactly those objects, so it
// is "the objects plus a hash slot"; a cache that copies keeps its copy and lets the original go.
// Each measurement runs in a fresh process (heap-child.ts): in one shared heap, a previous
// contender's lingering timers or garbage showed up as negative or doubled numbers.
import { execFile } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Contender } from '../contenders/index.ts'
import { rotated, summarize } from '../harness.ts'
import { describe } from './run-ops.ts'
import type { Row, RunContext, ScenarioResult } from './types.ts'

const CHILD = join(dirname(fileURLToPath(import.meta.url)), '..', 'heap-child.ts')

interface ChildResult {
  bytesPerEntry: number
  writeMs: number
  failures: string[]
}

function measureInChild(name: string, entries: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...process.execArgv, CHILD, name, String(entries)],
      { maxBuffer: 1 << 20, timeout: 120_000 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`${error.message} ${stderr}`.trim()))
        const line = stdout.trim().split('\n').pop() ?? ''
        try {
          resolve(JSON.parse(line) as ChildResult)
        } catch {
          reject(new Error(`heap child printed no result: ${stdout}${stderr}`))
        }
      },
    )
  })
}

export async function heapScenario(
  ctx: RunContext,
  contenders: readonly Contender[],
): Promise<ScenarioResult> {
  const entries = ctx.heapEntries
  // Sizes repeat to within 0.1% between runs, so quick mode measures each contender once.
  const rounds = ctx.quick ? 1 : 3
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
  // Heap sizes do not depend on timing, so two children may run side by side.
  const queue = Array.from({ length: rounds }, (_, round) => rotated([...rows], round)).flat()
  const worker = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      const [contender, row] = job
      if (row.status !== 'ok') continue
      try {
        const result = await measureInChild(contender.name, entries)
        row.samples.push(result.bytesPerEntry)
        if (result.failures.length > 0) Object.assign(row, { status: 'failed', failures: result.failures })
      } catch (error) {
        Object.assign(row, { status: 'failed', failures: [describe(error)] })
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(2, availableParallelism()) }, worker))
  for (const row of rows.values()) if (row.samples.length > 0) row.summary = summarize(row.samples)
  return {
    id: 'heap-per-entry',
    title: `heap per entry, ${entries.toLocaleString('en-US')} entries of ~1 KB (memory tier)`,
    tier: 'memory',
    unit: 'bytes/entry',
    rows: [...rows.values()],
    notes: [
      'heapUsed delta after global.gc(), one fresh process per measurement; the Map row holds the very objects written (no copy)',
      `${rounds} rounds`,
    ],
  }
}

// Hits: 1,024 keys written once, then read round-robin. Also records how each library protects
// what it holds from a caller mutating a hit (spec: "measured in the benchmark").
import type { CacheAdapter, Contender, Tier } from '../contenders/index.ts'
import { deepEqual, makeValue } from '../value.ts'
import { inChunks, runOpScenario } from './run-ops.ts'
import type { RunContext, ScenarioResult } from './types.ts'

const KEYS = 1_024
/** Built once so the measured loop does not also measure string building. */
const KEY_NAMES = Array.from({ length: KEYS }, (_, i) => `hit:${i}`)
const TITLES: Record<Tier, string> = {
  memory: 'in-memory hit',
  redis: 'Redis-only hit',
  'two-tier': 'two-tier hit (memory + Redis, served by memory)',
}

/** Compares what a key returns with the record it was written from. */
export async function checkHits(adapter: CacheAdapter, prefix: string, indexes: number[]): Promise<string[]> {
  const failures: string[] = []
  for (const i of indexes) {
    const got = await adapter.get(`${prefix}${i}`)
    if (!deepEqual(got, makeValue(i))) failures.push(`hit on ${prefix}${i} returned a wrong value`)
  }
  const missing = await adapter.get(`${prefix}absent`)
  if (missing !== undefined && missing !== null) failures.push('a missing key returned a value')
  return failures
}

/** What happens when a caller mutates a hit: 'copy' (cache unchanged), 'frozen' (throws) or 'shared'. */
async function isolation(adapter: CacheAdapter, key: string): Promise<string> {
  const hit = (await adapter.get(key)) as { price: { amount: number } }
  const before = hit.price.amount
  try {
    hit.price.amount = -1
  } catch {
    return 'frozen'
  }
  const again = (await adapter.get(key)) as { price: { amount: number } }
  const changed = again.price.amount === -1
  hit.price.amount = before
  return changed ? 'shared (mutation leaks)' : 'copy'
}

export function hitScenario(ctx: RunContext, tier: Tier, contenders: readonly Contender[]) {
  return runOpScenario(ctx, {
    tier,
    contenders,
    async setup(adapter) {
      await inChunks(KEYS, (i) => adapter.set(KEY_NAMES[i]!, makeValue(i)))
    },
    async check(adapter, phase) {
      const failures = await checkHits(adapter, 'hit:', [0, 1, 517, KEYS - 1])
      if (phase === 'after' || failures.length > 0) return { failures }
      const mode = await isolation(adapter, 'hit:3')
      // A "shared" cache may now hold the mutated value; write the record back.
      await adapter.set('hit:3', makeValue(3))
      return { failures, info: { 'hit value': mode } }
    },
    variants: [
      {
        id: `hit-${tier}`,
        title: TITLES[tier],
        op: (adapter) => (i) => adapter.get(KEY_NAMES[i & (KEYS - 1)]!),
      },
    ],
  }) satisfies Promise<ScenarioResult[]>
}

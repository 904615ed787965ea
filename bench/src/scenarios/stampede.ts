// Cold burst: 1,000 concurrent getOrSet calls on one key nobody holds yet, with a factory that takes
// FACTORY_MS (a database call). Reports total time and factory calls. With two instances sharing
// Redis, calls alternate between them; only a distributed lock brings the count to 1.
import type { CacheAdapter, Contender } from '../contenders/index.ts'
import { collectGarbage, rotated, summarize, timeOnce } from '../harness.ts'
import { deepEqual, makeValue } from '../value.ts'
import { describe } from './run-ops.ts'
import type { Row, RunContext, ScenarioResult } from './types.ts'

const CALLS = 1_000
const FACTORY_MS = 20

interface Live {
  contender: Contender
  instances: CacheAdapter[]
  row: Row
  calls: number[]
}

export async function stampedeScenario(
  ctx: RunContext,
  instanceCount: 1 | 2,
  contenders: readonly Contender[],
): Promise<ScenarioResult> {
  const tier = 'two-tier'
  const value = makeValue(11)
  const live: Live[] = []
  for (const contender of contenders) {
    // The naive Map is the "no protection" reference; it has no Redis to share, so one instance only.
    const usable = contender.tiers.includes(tier) || (instanceCount === 1 && contender.name === 'Map')
    if (!usable && contender.kind !== 'cachestack') continue
    const row: Row = {
      contender: contender.name,
      kind: contender.kind,
      status: 'ok',
      failures: [],
      samples: [],
    }
    const entry: Live = { contender, instances: [], row, calls: [] }
    live.push(entry)
    const unavailable = contender.unavailable ?? (usable ? undefined : `no ${tier} tier yet`)
    if (unavailable) {
      Object.assign(row, { status: 'unavailable', failures: [unavailable] })
      continue
    }
    try {
      for (let n = 0; n < instanceCount; n++) {
        const chosenTier = contender.tiers.includes(tier) ? tier : 'memory'
        entry.instances.push(
          await contender.create(chosenTier, ctx.env, {
            prefix: `burst-${contender.name.replace(/\W+/g, '-')}`,
            maxItems: 10_000,
          }),
        )
      }
    } catch (error) {
      Object.assign(row, { status: 'failed', failures: [describe(error)] })
    }
  }

  for (let round = 0; round < ctx.rounds; round++) {
    for (const entry of rotated(live, round)) {
      if (entry.row.status !== 'ok') continue
      const key = `burst:${round}`
      let calls = 0
      const factory = async () => {
        calls++
        await new Promise((resolve) => setTimeout(resolve, FACTORY_MS))
        return makeValue(11)
      }
      collectGarbage('minor')
      try {
        let results: unknown[] = []
        const ns = await timeOnce(async () => {
          results = await Promise.all(
            Array.from({ length: CALLS }, (_, i) =>
              entry.instances[i % entry.instances.length]!.getOrSet(key, factory),
            ),
          )
        })
        entry.row.samples.push(ns / 1e6)
        entry.calls.push(calls)
        if (!results.every((r) => deepEqual(r, value))) {
          Object.assign(entry.row, { status: 'failed', failures: ['a burst caller got a wrong value'] })
        }
      } catch (error) {
        Object.assign(entry.row, { status: 'failed', failures: [describe(error)] })
      }
    }
  }

  for (const entry of live) {
    const max = entry.calls.length > 0 ? Math.max(...entry.calls) : 0
    if (entry.calls.length > 0) {
      entry.row.info = {
        'factory calls': entry.calls.join('/'),
        dedupe: max <= 1 ? 'global' : max <= instanceCount ? 'per instance' : 'none',
      }
    }
    // Stampede protection is part of what a cache promises; the Map is the unprotected reference.
    if (entry.row.status === 'ok' && entry.contender.kind !== 'baseline' && max > instanceCount) {
      Object.assign(entry.row, {
        status: 'failed',
        failures: [`factory ran up to ${max} times for one key in ${instanceCount} instance(s)`],
      })
    }
    if (entry.row.samples.length > 0) entry.row.summary = summarize(entry.row.samples)
    for (const instance of entry.instances) await instance.close().catch(() => {})
  }
  await ctx.env.redis.flush()

  return {
    id: `cold-burst-${instanceCount}`,
    title: `${CALLS} concurrent cold getOrSet, one key, ${FACTORY_MS} ms factory, ${instanceCount} instance(s) (two-tier)`,
    tier,
    unit: 'ms',
    rows: live.map((entry) => entry.row),
    notes: [
      `time is for the whole burst (the ${FACTORY_MS} ms factory included); "factory calls" lists every round`,
    ],
  }
}

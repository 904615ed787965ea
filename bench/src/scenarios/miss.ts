// getOrSet misses: every call uses a key never seen before, so each one runs the (instant) factory
// and writes the value to every layer. The keys are dropped between samples, untimed.
import type { Contender, Tier } from '../contenders/index.ts'
import { deepEqual, makeValue } from '../value.ts'
import { runOpScenario } from './run-ops.ts'
import type { RunContext } from './types.ts'

const TITLES: Record<Tier, string> = {
  memory: 'getOrSet miss, memory',
  redis: 'getOrSet miss, Redis',
  'two-tier': 'getOrSet miss, two-tier',
}

export function missScenario(ctx: RunContext, tier: Tier, contenders: readonly Contender[]) {
  const value = makeValue(7)
  const factory = async () => value
  return runOpScenario(ctx, {
    tier,
    contenders,
    async check(adapter, phase) {
      const failures: string[] = []
      const key = `miss-check:${phase}`
      let calls = 0
      const counted = async () => {
        calls++
        return makeValue(7)
      }
      const first = await adapter.getOrSet(key, counted)
      const second = await adapter.getOrSet(key, counted)
      if (!deepEqual(first, value)) failures.push('getOrSet on a miss returned a wrong value')
      if (!deepEqual(second, value)) failures.push('getOrSet after a miss returned a wrong value')
      if (calls !== 1) failures.push(`factory ran ${calls} times for a miss then a hit`)
      if (!deepEqual(await adapter.get(key), value)) failures.push('get after getOrSet missed')
      return { failures }
    },
    variants: [
      {
        id: `miss-${tier}`,
        title: TITLES[tier],
        op: (adapter, round) => (i) => adapter.getOrSet(`miss:${round}:${i}`, factory),
        async after(adapter) {
          await adapter.clear()
          await ctx.env.redis.flush()
        },
      },
    ],
  })
}

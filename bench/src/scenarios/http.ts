// HTTP scenarios go here: the same contenders behind express / fastify / hono (cachestack's adapters
// next to apicache and @fastify/caching), driven over loopback. Each scenario returns
// ScenarioResult[] like the others; main.ts already calls this and prints whatever it returns, and
// targets.ts is where an HTTP target would be added.
import type { Contender } from '../contenders/index.ts'
import type { RunContext, ScenarioResult } from './types.ts'

export async function httpScenarios(
  _ctx: RunContext,
  _contenders: readonly Contender[],
): Promise<ScenarioResult[]> {
  return []
}

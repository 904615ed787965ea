import { ioredisBaseline, lruBaseline, mapBaseline, setPublishBaseline } from './baselines.ts'
import { bentocacheContender } from './bentocache.ts'
import { cacheManagerContender } from './cache-manager.ts'
import { cacheableContender } from './cacheable.ts'
import { cachestackContender } from './cachestack.ts'
import type { Contender } from './types.ts'

/** Everyone measured, cachestack first. */
export const contenders: readonly Contender[] = [
  cachestackContender(),
  bentocacheContender,
  cacheManagerContender,
  cacheableContender,
  mapBaseline,
  lruBaseline,
  ioredisBaseline,
]

/** Extra row of the Redis misses: a miss that does not wait on the shared write (issue 18). */
export const writeBehindExtra: Contender = cachestackContender({ writeBehind: true })

/**
 * Extra rows of the memory + Redis tag invalidation: cachestack with the bus a multi-instance deployment
 * runs, and the floor it is held to, a raw pipelined SET + PUBLISH (issue 18).
 */
export const invalidationExtras: readonly Contender[] = [
  cachestackContender({ bus: true }),
  setPublishBaseline,
]

/** The floor of the first read after an invalidation on memory + Redis (its rows share the rounds). */
export { readOverBaseline } from './baselines.ts'

/** Extra rows for the heap scenario: what the frozen copy costs in memory. */
export const heapExtras: readonly Contender[] = [cachestackContender({ values: 'reference' })]

/** Extra row of the in-memory hit: the same hit with per-call options (what checking them costs). */
export const perCallOptionsExtra: Contender = cachestackContender({ perCallOptions: true })

/** Extra rows where cross-instance stampede protection matters: bursts, and what it costs on a miss. */
export const singleFlightExtras: readonly Contender[] = [cachestackContender({ singleFlight: true })]

/**
 * cachestack with a memory layer only, run inside the two-tier hit scenario: the two-tier target
 * compares two rows measured in the same interleaved rounds, not in scenarios a minute apart (on a
 * busy machine that gap alone moved the ratio between 0.43x and 1.3x).
 */
export const memoryReference: Contender = {
  ...cachestackContender(),
  name: 'cachestack (memory only)',
  tiers: ['memory', 'redis', 'two-tier'],
  create: (_tier, env, options) => cachestackContender().create('memory', env, options),
}

export type { BenchEnv, CacheAdapter, Contender, ContenderKind, Tier, WriteOptions } from './types.ts'

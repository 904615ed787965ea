import { ioredisBaseline, lruBaseline, mapBaseline } from './baselines.ts'
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

/** Extra rows for the heap scenario: what the frozen copy costs in memory. */
export const heapExtras: readonly Contender[] = [cachestackContender({ values: 'reference' })]

/** Extra rows where cross-instance stampede protection matters: bursts, and what it costs on a miss. */
export const singleFlightExtras: readonly Contender[] = [cachestackContender({ singleFlight: true })]

export type { BenchEnv, CacheAdapter, Contender, ContenderKind, Tier, WriteOptions } from './types.ts'

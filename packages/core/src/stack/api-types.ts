// Shapes of what `CacheStack` methods take and answer (the facade re-exports them).

import type { Factory, Storable } from './factory.ts'
import type { CacheStats } from './metrics.ts'
import type { EntryOptions, ReadOptions } from './options.ts'

/** `inspect()`'s answer. */
export interface EntryInspection {
  key: string
  foundInLayers: string[]
  freshTtl: number
  staleTtl: number
  isStale: boolean
  tags: string[]
  createdAt: number
}

/** One `mget` item. */
export interface MgetEntry<T = unknown, G = T> extends ReadOptions {
  key: string
  fetch?: Factory<T, G>
}

/** One `mset` item. */
export interface MsetEntry<T = unknown> extends EntryOptions {
  key: string
  value: Storable<T>
}

/** Per-layer health from `healthCheck()`. */
export interface LayerHealth {
  layer: string
  healthy: boolean
  latency: number
  error?: string
}

/** Counters and figures from `getMetrics()`. */
export type CacheMetrics = CacheStats

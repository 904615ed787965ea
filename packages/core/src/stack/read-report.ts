import type { CacheEntry } from '../layer.ts'
import type { Found, StackEngine } from './engine.ts'
import type { CacheEvents } from './events.ts'

/**
 * A read option (never enumerated, so never mistaken for a user option) carrying a `ReadTrace` the read
 * fills in: how the operation cache learns whether it was served fresh or stale.
 */
export const READ_TRACE: unique symbol = Symbol('cachestack.read-trace')

/** Filled in by a read for the diagnostics channel and for `READ_TRACE`. */
export interface ReadTrace {
  hit?: boolean | undefined
  stale?: boolean | undefined
  layer?: string | undefined
  coalesced?: boolean | undefined
}

/** Why a stale value was served. */
export type StaleReason = CacheEvents['stale-serve']['reason']

/** Counts a hit and tells listeners and the trace. */
export function countHit(
  engine: StackEngine,
  key: string,
  trace: ReadTrace | undefined,
  found: Found,
  stale: boolean,
): void {
  const metrics = engine.metrics
  metrics.hits++
  if (stale) {
    metrics.staleHits++
    metrics.layers[found.layer]!.staleHits++
  }
  if (trace) {
    trace.hit = true
    trace.stale = stale
    trace.layer = engine.layers[found.layer]!.name
  }
  engine.emitter.emitHit(key, engine.layers[found.layer]!.name, stale)
}

export function countMiss(engine: StackEngine, key: string, trace?: ReadTrace): void {
  engine.metrics.misses++
  if (trace) trace.hit = false
  engine.emitter.emitMiss(key)
}

/** A stale value served in place of a factory result (error, timeout, open circuit): counted as a stale hit. */
export function serveStale(
  engine: StackEngine,
  key: string,
  entry: CacheEntry,
  reason: StaleReason,
  trace?: ReadTrace,
): unknown {
  engine.metrics.staleHits++
  if (trace) trace.stale = true
  engine.emitter.emitStaleServe(key, reason)
  return entryValue(entry)
}

export function reportWrite(engine: StackEngine, key: string, error: unknown): void {
  engine.emitter.emitError(error, 'set', key)
}

/** The value a caller sees: a cached "not found" reads as `undefined`. */
export function entryValue(entry: CacheEntry): unknown {
  return entry.missing ? undefined : entry.value
}

/** Where the stale windows of a hit end, moved earlier with a soft invalidation (lengths kept). */
export function windowsOf(found: Found): { swrUntil: number; graceUntil: number } {
  const { entry, freshUntil } = found
  if (freshUntil >= entry.freshUntil) return entry
  return {
    swrUntil: freshUntil + (entry.swrUntil - entry.freshUntil),
    graceUntil: freshUntil + (entry.graceUntil - entry.freshUntil),
  }
}

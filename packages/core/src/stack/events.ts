/**
 * Payloads of the events a stack emits, by event name. `key` is always the key as the user sees it:
 * namespace path + key (`'users:42'`), never the internal generation prefix — the same key that
 * tracing messages carry, whatever the operation.
 */
export interface CacheEvents {
  hit: { key: string; layer: string; stale: boolean }
  miss: { key: string }
  set: { key: string }
  delete: { key: string }
  expire: { key: string }
  clear: { namespace: string }
  'stale-serve': {
    key: string
    reason: 'stale-while-revalidate' | 'grace' | 'timeout' | 'error' | 'backoff' | 'circuit-open'
  }
  'stampede-dedupe': { key: string }
  backfill: { key: string; fromLayer: string; toLayer: string }
  refresh: { key: string }
  'refresh-error': { key: string; error: unknown }
  invalidate: { tags?: string[]; prefix?: string; pattern?: string; mode?: 'hard' | 'soft' }
  'bus-publish': { type: string }
  'bus-receive': { type: string }
  'layer-degraded': { layer: string; error: unknown }
  'layer-recovered': { layer: string }
  error: { error: unknown; operation: string; key?: string }
}

/** Name of any stack event. */
export type CacheEventName = keyof CacheEvents
/** A listener of event `E`. */
export type CacheEventListener<E extends CacheEventName> = (payload: CacheEvents[E]) => void

type StaleReason = CacheEvents['stale-serve']['reason']

/**
 * The stack's events, all emitted from here: one typed `emitX` per event, so every event a stack can
 * send is listed in this file. Each method checks for a listener before it builds its payload, so an
 * event nobody listens to costs one map lookup (the hit path included).
 *
 * Unlike `node:events`, an `error` event with no listener is dropped instead of thrown: background
 * failures must never crash the process. A throwing listener is isolated too (reported as an `error`).
 */
export class CacheEmitter {
  readonly #listeners = new Map<CacheEventName, Set<(payload: any) => void>>()
  /** Whether `hit` has a listener: read on every L1 hit, where a field costs less than a map lookup. */
  #hearsHit = false
  /** Set once generations are on: every stored key then starts with one `g<n>:`, which events hide. */
  generations = false

  on<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): void {
    let set = this.#listeners.get(event)
    if (!set) this.#listeners.set(event, (set = new Set()))
    set.add(listener)
    this.#hearsHit = this.#listeners.has('hit')
  }

  off<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): void {
    const set = this.#listeners.get(event)
    if (!set) return
    set.delete(listener)
    if (set.size === 0) this.#listeners.delete(event)
    this.#hearsHit = this.#listeners.has('hit')
  }

  removeAll(): void {
    this.#listeners.clear()
    this.#hearsHit = false
  }

  // Keys passed below are stored keys (generation + namespace + key); listeners get the visible one.

  /** A read answered from `layer` (the memory fast path included). */
  emitHit(key: string, layer: string, stale: boolean): void {
    if (this.#hearsHit) this.#emit('hit', { key, layer, stale })
  }

  /** A read found nothing usable in any layer. */
  emitMiss(key: string): void {
    if (this.#listeners.has('miss')) this.#emit('miss', { key })
  }

  /** A value was written to the layers (`set`, a factory's result, `mset`). */
  emitSet(key: string): void {
    if (this.#listeners.has('set')) this.#emit('set', { key })
  }

  /** `delete` / `deleteMany` removed a key (one event per key). */
  emitDelete(keys: readonly string[]): void {
    if (this.#listeners.has('delete')) for (const key of keys) this.#emit('delete', { key })
  }

  /** `expire` turned a key stale. */
  emitExpire(key: string): void {
    if (this.#listeners.has('expire')) this.#emit('expire', { key })
  }

  /** `clear` removed every key of a namespace (`''`: the whole stack). */
  emitClear(namespace: string): void {
    if (this.#listeners.has('clear')) this.#emit('clear', { namespace })
  }

  /** A stale value was served, and why. */
  emitStaleServe(key: string, reason: StaleReason): void {
    if (this.#listeners.has('stale-serve')) this.#emit('stale-serve', { key, reason })
  }

  /** A read joined a factory already running for its key. */
  emitStampedeDedupe(key: string): void {
    if (this.#listeners.has('stampede-dedupe')) this.#emit('stampede-dedupe', { key })
  }

  /** A value found in a lower layer was copied to a higher one. */
  emitBackfill(key: string, fromLayer: string, toLayer: string): void {
    if (this.#listeners.has('backfill')) this.#emit('backfill', { key, fromLayer, toLayer })
  }

  /** A background refresh started. */
  emitRefresh(key: string): void {
    if (this.#listeners.has('refresh')) this.#emit('refresh', { key })
  }

  /** A background refresh failed or timed out (a failure is also an `error`, see `emitError`). */
  emitRefreshError(key: string, error: unknown): void {
    if (this.#listeners.has('refresh-error')) this.#emit('refresh-error', { key, error })
  }

  /** Tags were invalidated (hard or soft), or a prefix or pattern; the tag list is copied only when heard. */
  emitInvalidate(by: 'tags', tags: readonly string[], mode: 'hard' | 'soft'): void
  emitInvalidate(by: 'prefix' | 'pattern', value: string): void
  emitInvalidate(
    by: 'tags' | 'prefix' | 'pattern',
    value: string | readonly string[],
    mode?: 'hard' | 'soft',
  ): void {
    if (!this.#listeners.has('invalidate')) return
    if (by === 'tags') this.#emit('invalidate', { tags: [...value], mode: mode! })
    else if (by === 'prefix') this.#emit('invalidate', { prefix: value as string })
    else this.#emit('invalidate', { pattern: value as string })
  }

  /** This instance published a bus message. */
  emitBusPublish(type: string): void {
    if (this.#listeners.has('bus-publish')) this.#emit('bus-publish', { type })
  }

  /** This instance received another instance's bus message. */
  emitBusReceive(type: string): void {
    if (this.#listeners.has('bus-receive')) this.#emit('bus-receive', { type })
  }

  /** A shared layer was taken out of service (graceful degradation). */
  emitLayerDegraded(layer: string, error: unknown): void {
    if (this.#listeners.has('layer-degraded')) this.#emit('layer-degraded', { layer, error })
  }

  /** A degraded layer answered its probe and is back in service. */
  emitLayerRecovered(layer: string): void {
    if (this.#listeners.has('layer-recovered')) this.#emit('layer-recovered', { layer })
  }

  /** A failure nobody awaits (layer, bus, background refresh, listener); dropped when nobody listens. */
  emitError(error: unknown, operation: string, key?: string): void {
    if (this.#listeners.has('error')) {
      this.#emit('error', key === undefined ? { error, operation } : { error, operation, key })
    }
  }

  #emit<E extends CacheEventName>(event: E, payload: CacheEvents[E]): void {
    const set = this.#listeners.get(event)
    if (!set) return
    if (this.generations) payload = visibleKey(payload)
    for (const listener of set) {
      try {
        listener(payload)
      } catch (error) {
        if (event !== 'error') this.emitError(error, `listener:${event}`)
      }
    }
  }
}

const GENERATION_PREFIX = /^g\d+:/

function visibleKey<P>(payload: P): P {
  const key = (payload as { key?: unknown }).key
  if (typeof key !== 'string' || !GENERATION_PREFIX.test(key)) return payload
  return { ...payload, key: key.replace(GENERATION_PREFIX, '') }
}

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
  invalidate: { tags?: string[]; prefix?: string; pattern?: string; keys?: string[]; mode?: 'hard' | 'soft' }
  'bus-publish': { type: string; count?: number }
  'bus-receive': { type: string; from?: string }
  'layer-degraded': { layer: string; error: unknown }
  'layer-recovered': { layer: string }
  error: { error: unknown; operation: string; key?: string }
}

/** Name of any stack event. */
export type CacheEventName = keyof CacheEvents
/** A listener of event `E`. */
export type CacheEventListener<E extends CacheEventName> = (payload: CacheEvents[E]) => void

/**
 * A small typed emitter. Unlike `node:events`, an `error` event with no listener is dropped instead of
 * thrown: background failures must never crash the process. A throwing listener is isolated too.
 */
export class CacheEmitter {
  readonly #listeners = new Map<CacheEventName, Set<(payload: any) => void>>()
  /** Set once generations are on: every stored key then starts with one `g<n>:`, which events hide. */
  generations = false

  on<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): void {
    let set = this.#listeners.get(event)
    if (!set) this.#listeners.set(event, (set = new Set()))
    set.add(listener)
  }

  off<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): void {
    const set = this.#listeners.get(event)
    if (!set) return
    set.delete(listener)
    if (set.size === 0) this.#listeners.delete(event)
  }

  /** Cheap check so callers build payloads only when somebody listens. */
  has(event: CacheEventName): boolean {
    return this.#listeners.has(event)
  }

  /** `payload.key` is the stored key (generation + namespace + key); listeners get the visible one. */
  emit<E extends CacheEventName>(event: E, payload: CacheEvents[E]): void {
    const set = this.#listeners.get(event)
    if (!set) return
    if (this.generations) payload = visibleKey(payload)
    for (const listener of set) {
      try {
        listener(payload)
      } catch (error) {
        if (event !== 'error') this.emit('error', { error, operation: `listener:${event}` })
      }
    }
  }

  removeAll(): void {
    this.#listeners.clear()
  }
}

const GENERATION_PREFIX = /^g\d+:/

function visibleKey<P>(payload: P): P {
  const key = (payload as { key?: unknown }).key
  if (typeof key !== 'string' || !GENERATION_PREFIX.test(key)) return payload
  return { ...payload, key: key.replace(GENERATION_PREFIX, '') }
}

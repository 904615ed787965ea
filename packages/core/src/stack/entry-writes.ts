// Writing entries: building an entry from a value and its options, writing it to every layer under the
// write policy, and the sliding-ttl rewrite of an entry that was read.

import { type CacheEntry, FOREVER, type WriteFence } from '../layer.ts'
import type { StackEngine } from './engine.ts'
import { capFresh, remainingLifetime } from './entry-times.ts'
import type { ResolvedEntryOptions } from './options.ts'
import { entryTtl, jitterTtl } from './ttl-policy.ts'

/**
 * Builds the entry for a value with resolved options, and writes it to every layer. `createdAt` (when
 * the factory started) replaces the entry's own stamp; `missing` stores a cached "not found".
 */
export function writeValue(
  engine: StackEngine,
  key: string,
  namespace: string,
  value: unknown,
  options: ResolvedEntryOptions,
  createdAt?: number,
  fence?: WriteFence,
  missing?: boolean,
): Promise<void> {
  let entry: CacheEntry
  try {
    const ttl =
      options.ttlPolicy || options.adaptiveTtl
        ? entryTtl(options, userKey(engine, key), value, engine.clock.now(), engine.profiles.hits(key))
        : options.ttl
    entry = createEntry(engine, namespace, value, ttl === options.ttl ? options : { ...options, ttl })
  } catch (error) {
    // A throwing ttlPolicy rejects like any write failure (the caller reports it).
    return Promise.reject(error)
  }
  if (missing) entry.missing = true
  if (createdAt !== undefined) entry.createdAt = createdAt
  return writeEntry(engine, key, entry, options.layerTtls, fence)
}

/** The key without its generation prefix, as `ttlPolicy` functions see it. */
function userKey(engine: StackEngine, key: string): string {
  const prefix = engine.generationPrefix
  return prefix !== '' && key.startsWith(prefix) ? key.slice(prefix.length) : key
}

/**
 * Rewrites an entry whose fresh period slid (`slidingTtl`): local layers every time, shared layers
 * only when `shared`, and without a bus message (other instances slide their own copies).
 */
export function touchEntry(engine: StackEngine, key: string, entry: CacheEntry, shared: boolean): void {
  const lifetime = remainingLifetime(entry, engine.clock.now())
  engine.noteLifetime(lifetime)
  for (let i = 0; i < engine.layers.length; i++) {
    if ((!shared && !engine.layers[i]!.isLocal) || engine.isDegraded(i)) continue
    engine.access.setLayer(i, key, entry, lifetime).catch((error) => engine.layerFailed(i, 'set', error, key))
  }
}

/** The entry a value is stored as, its windows computed from resolved options. */
export function createEntry(
  engine: StackEngine,
  namespace: string,
  value: unknown,
  options: ResolvedEntryOptions,
): CacheEntry {
  const forever = options.ttl >= FOREVER
  const createdAt = engine.stamp()
  const now = Math.floor(createdAt)
  const ttl = forever ? FOREVER : jitterTtl(options.ttl, options.ttlJitter)
  const freshUntil = forever ? FOREVER : now + ttl
  const entry: CacheEntry = {
    value,
    createdAt,
    freshUntil,
    swrUntil: forever ? FOREVER : freshUntil + options.staleWhileRevalidate,
    graceUntil: forever ? FOREVER : freshUntil + options.grace,
    tags: options.tags as string[] | undefined,
    namespace: namespace === '' ? undefined : namespace,
  }
  if (options.slidingTtl && !forever && options.ttl > 0) entry.sliding = options.ttl
  return entry
}

/** Writes an entry to every layer (write-behind for shared ones when on), then tells other instances. */
export async function writeEntry(
  engine: StackEngine,
  key: string,
  entry: CacheEntry,
  layerTtls?: Readonly<Record<string, number>>,
  fence?: WriteFence,
): Promise<void> {
  if (layerTtls !== engine.defaults.layerTtls) engine.assertLayerTtls(layerTtls)
  const now = engine.clock.now()
  const lifetime = remainingLifetime(entry, now)
  if (lifetime !== undefined && lifetime <= 0) {
    await engine.removeKeys([key], false)
    return
  }
  engine.noteLifetime(lifetime)
  engine.changes.changedKey(key)
  engine.invalidateFlight(key)
  let failures = 0
  let lastError: unknown
  // Synchronous layers (memory) are written in place; only layers that answer with a promise are
  // awaited, and a single one without Promise.all: a miss on memory + Redis awaits just the Redis SET.
  // Slowest layer first: the Redis SET is on the wire while the memory layer makes its frozen copy.
  let pending: Promise<void> | Promise<void>[] | undefined
  // Under write-behind the bus message goes out once the queued write reached the shared layer.
  let queued = false
  const layers = engine.layers
  for (let i = layers.length - 1; i >= 0; i--) {
    if (engine.isDegraded(i)) {
      // The layer keeps its older value: deleting it on recovery stops it from serving that.
      engine.degradation!.missedKeys(i, [key])
      failures++
      continue
    }
    const layer = layers[i]!
    const perLayer = layerTtls?.[layer.name]
    const layerEntry = perLayer === undefined ? entry : capFresh(entry, now + perLayer)
    const layerLifetime = perLayer === undefined ? lifetime : remainingLifetime(layerEntry, now)
    const failed = (error: unknown) => {
      failures++
      lastError = error
      engine.layerFailed(i, 'set', error, key)
      engine.degradation?.missedKeys(i, [key])
    }
    let write: Promise<void> | undefined
    try {
      const behind = engine.writeBehind !== undefined && !layer.isLocal
      queued ||= behind
      write = behind
        ? engine.writeBehind!.enqueue(i, key, layerEntry, layerLifetime)
        : fence && layer.setFenced
          ? // A lost lease writes nothing: a newer holder's value stays (checked on the server, atomically).
            layer.setFenced(key, layerEntry, layerLifetime, fence).then(() => {})
          : (layer.set(key, layerEntry, layerLifetime) as Promise<void> | undefined)
    } catch (error) {
      failed(error)
      continue
    }
    if (!(write instanceof Promise)) continue
    const settled = write.catch(failed)
    if (pending === undefined) pending = settled
    else if (Array.isArray(pending)) pending.push(settled)
    else pending = [pending, settled]
  }
  if (pending !== undefined) await (Array.isArray(pending) ? Promise.all(pending) : pending)
  engine.metrics.sets++
  engine.enforceWritePolicy(failures, lastError, 'set')
  engine.emitter.emitSet(key)
  if (engine.sync.publishing && !queued) engine.sync.keysSet([key])
}

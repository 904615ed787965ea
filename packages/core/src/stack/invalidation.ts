// Removing and invalidating entries across the layers of one engine (and telling other instances).
// Functions rather than engine methods so the engine stays the owner of state, not of every operation.

import type { LocalSync } from './bus-sync.ts'
import type { StackEngine } from './engine.ts'
import { capFresh } from './entry-times.ts'
import { writeEntry } from './entry-writes.ts'
import { deleteMatchingIn } from './layer-scan.ts'
import type { TagState } from './tags.ts'

/** Removes keys from every layer and tells other instances. Resolves with the most keys one layer removed. */
export async function deleteKeys(engine: StackEngine, keys: readonly string[]): Promise<number> {
  if (keys.length === 0) return 0
  const removed = await engine.removeKeys(keys, false)
  engine.sync.keysDeleted(keys)
  return removed
}

/** Soft delete: entries turn stale now, keeping their grace window. */
export async function expireKeys(
  engine: StackEngine,
  keys: readonly string[],
  publish = true,
): Promise<void> {
  const at = engine.stamp()
  for (const key of keys) {
    engine.invalidateFlight(key)
    const found = await engine.access.lookup(key)
    if (!found) continue
    const entry = capFresh(found.entry, Math.floor(at))
    await writeEntry(engine, key, entry).catch((error) =>
      engine.layerFailed(found.layer, 'expire', error, key),
    )
  }
  if (publish) engine.sync.keysExpired(keys, at)
}

/** Removes every key starting with `prefix` ('' = everything this stack wrote) from every layer. */
export async function clearPrefix(engine: StackEngine, prefix: string, localOnly = false): Promise<void> {
  engine.changes.changedMany()
  engine.invalidateFlights((key) => key.startsWith(prefix))
  if (prefix === '' && !localOnly) engine.tags.clear()
  if (engine.writeBehind) {
    engine.writeBehind.dropMatching((key) => key.startsWith(prefix))
    await engine.writeBehind.settled()
  }
  await engine.eachLayer(
    'clear',
    localOnly,
    async (layer, i) => {
      if (engine.isDegraded(i)) engine.degradation!.missedPrefix(i, prefix)
      else await layer.clear(prefix === '' ? undefined : prefix)
    },
    (i) => engine.degradation?.missedPrefix(i, prefix),
  )
}

/** Deletes the keys under `scanPrefix` that match `pattern`, in every layer. */
export async function deleteMatching(
  engine: StackEngine,
  scanPrefix: string,
  pattern: RegExp,
  localOnly = false,
): Promise<number> {
  engine.changes.changedMany()
  engine.invalidateFlights((key) => pattern.test(key))
  if (engine.writeBehind) {
    engine.writeBehind.dropMatching((key) => pattern.test(key))
    await engine.writeBehind.settled()
  }
  let removed = 0
  await engine.eachLayer(
    'invalidate',
    localOnly,
    async (_layer, i) => {
      if (engine.isDegraded(i)) engine.degradation!.missedPattern(i, scanPrefix, pattern)
      else removed += await deleteMatchingIn(engine.layers[i]!, scanPrefix, pattern)
    },
    (i) => engine.degradation?.missedPattern(i, scanPrefix, pattern),
  )
  return removed
}

/** Records tag invalidations (scoped names) locally and in every shared layer. */
export async function invalidateTags(
  engine: StackEngine,
  names: readonly string[],
  mode: 'hard' | 'soft',
  publish = true,
  at = engine.stamp(),
): Promise<void> {
  const state: Partial<TagState> = mode === 'hard' ? { hard: at } : { soft: at }
  for (const name of names) engine.tags.record(name, state)
  if (mode === 'hard') engine.invalidateFlights()
  await announceAndPersist(engine, names, names, mode, at, publish, false)
}

/** Records an invalidation of the entries that carry all of `names` (`mode: 'all'`). */
export async function invalidateTagSet(
  engine: StackEngine,
  names: readonly string[],
  mode: 'hard' | 'soft',
  publish = true,
  at = engine.stamp(),
): Promise<void> {
  engine.tags.recordSet(names, mode === 'hard' ? { hard: at } : { soft: at })
  if (mode === 'hard') engine.invalidateFlights()
  // Filed under the first name, where every reader of an entry carrying the whole set looks (shared-state.ts).
  await announceAndPersist(engine, names, [[...names].sort()[0]!], mode, at, publish, true)
}

/**
 * Tells other instances (`names`) and writes the states filed under `stateNames` to the shared layers.
 * The message goes out before the shared write, not after it: it carries its own time, so a receiver
 * needs nothing from Redis, and the two round trips overlap. When the bus publishes on the server of
 * the shared layer that writes first, the message rides that write instead: one round trip for both.
 */
async function announceAndPersist(
  engine: StackEngine,
  names: readonly string[],
  stateNames: readonly string[],
  mode: 'hard' | 'soft',
  at: number,
  publish: boolean,
  all: boolean,
): Promise<void> {
  const carrier = publish && engine.hasSharedLayer ? carrierLayer(engine) : -1
  const carriage = publish
    ? engine.sync.tagsInvalidated(names, mode, at, all, engine.layers[carrier]?.client)
    : undefined
  if (engine.hasSharedLayer) {
    await engine.eachLayer(
      'invalidate',
      false,
      async (layer, i) => {
        if (layer.isLocal) return
        if (engine.isDegraded(i)) engine.degradation!.missedTags(i, stateNames)
        else {
          const ride = i === carrier ? carriage : undefined
          await engine.shared.writeTagStates(i, stateNames, engine.maxLifetime, engine.clock.now(), ride)
        }
      },
      (i) => engine.degradation?.missedTags(i, stateNames),
    )
  }
  // Pruned after persisting: with a short lifetime the states just recorded may already qualify.
  engine.tags.pruneSometimes(engine.clock.now(), engine.maxLifetime)
}

/** The first shared layer that can publish a message in its state write, or -1. */
function carrierLayer(engine: StackEngine): number {
  return engine.layers.findIndex(
    (layer, i) =>
      !layer.isLocal &&
      layer.writeStates !== undefined &&
      layer.client !== undefined &&
      !engine.isDegraded(i),
  )
}

/** The local-only actions another instance's bus message triggers on this engine. */
export function localSync(engine: StackEngine): LocalSync {
  return {
    deleteKeys: (keys) => engine.removeKeys(keys, true),
    clearPrefix: (prefix) => clearPrefix(engine, prefix, true),
    deleteMatching: (scanPrefix, pattern) => deleteMatching(engine, scanPrefix, pattern, true),
    recordTags(names, state, all) {
      if (all) engine.tags.recordSet(names, state)
      else for (const name of names) engine.tags.record(name, state)
    },
    stamp: () => engine.stamp(),
    adoptGeneration(value) {
      if (engine.generation === undefined || value > engine.generation) engine.setGeneration(value)
    },
    async distrust() {
      engine.changes.changedMany()
      await engine.eachLayer('clear', true, (layer) => layer.clear())
    },
  }
}

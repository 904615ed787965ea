// Removing and invalidating entries across the layers of one engine (and telling other instances).
// Functions rather than engine methods so the engine stays the owner of state, not of every operation.

import type { StackEngine } from './engine.ts'
import { capFresh } from './entry-times.ts'
import { SYSTEM_PREFIX } from './shared-state.ts'
import type { TagState } from './tags.ts'

/**
 * Removes keys from every layer (or only the local ones, for messages from other instances). Resolves
 * with the most keys any one layer removed.
 */
export async function deleteKeys(
  engine: StackEngine,
  keys: readonly string[],
  publish = true,
  localOnly = false,
): Promise<number> {
  if (keys.length === 0) return 0
  let removed = 0
  engine.changes.changed(keys)
  for (const key of keys) engine.invalidateFlight(key)
  if (engine.writeBehind) {
    engine.writeBehind.drop(keys)
    await engine.writeBehind.settled()
  }
  await engine.eachLayer(
    'delete',
    localOnly,
    async (layer, i) => {
      if (engine.isDegraded(i)) engine.degradation!.missedKeys(i, keys)
      else removed = Math.max(removed, await layer.deleteMany(keys))
    },
    (i) => engine.degradation?.missedKeys(i, keys),
  )
  if (publish) engine.publish({ v: 1, type: 'delete', keys: [...keys] })
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
    const found = await engine.lookup(key)
    if (!found) continue
    const entry = capFresh(found.entry, Math.floor(at))
    await engine
      .writeEntry(key, entry)
      .catch((error) => engine.layerFailed(found.layer, 'expire', error, key))
  }
  if (publish) engine.publish({ v: 1, type: 'expire', keys: [...keys], at })
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
      else removed += await deleteMatchingIn(engine, i, scanPrefix, pattern)
    },
    (i) => engine.degradation?.missedPattern(i, scanPrefix, pattern),
  )
  return removed
}

export async function deleteMatchingIn(
  engine: StackEngine,
  i: number,
  scanPrefix: string,
  pattern: RegExp,
): Promise<number> {
  const layer = engine.layers[i]!
  let removed = 0
  let batch: string[] = []
  for await (const key of layer.keys(scanPrefix)) {
    if (!key.startsWith(SYSTEM_PREFIX) && pattern.test(key)) batch.push(key)
    if (batch.length >= 500) {
      removed += await layer.deleteMany(batch)
      batch = []
    }
  }
  if (batch.length > 0) removed += await layer.deleteMany(batch)
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
  await persistTagStates(engine, names)
  // Pruned after persisting: with a short lifetime the states just recorded may already qualify.
  engine.tags.prune(engine.clock.now(), engine.maxLifetime)
  if (publish) engine.publish({ v: 1, type: 'tags', names: [...names], mode, at })
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
  if (publish) engine.publish({ v: 1, type: 'tags', names: [...names], mode, at, all: true })
}

async function persistTagStates(engine: StackEngine, names: readonly string[]): Promise<void> {
  await engine.eachLayer(
    'invalidate',
    false,
    async (layer, i) => {
      if (layer.isLocal) return
      if (engine.isDegraded(i)) engine.degradation!.missedTags(i, names)
      else await engine.shared.writeTagStates(i, names, engine.maxLifetime)
    },
    (i) => engine.degradation?.missedTags(i, names),
  )
}

// Walking a view's keys in its layers: `keys()` lists them, `prune()` removes what no read can reach.

import { ValidationError } from '../errors.ts'
import type { CacheEntry } from '../layer.ts'
import type { StackEngine } from './engine.ts'
import { physicalEnd } from './entry-times.ts'
import { SYSTEM_PREFIX } from './shared-state.ts'
import { HARD_INVALIDATED } from './tags.ts'
import type { StackView } from './view.ts'

/** What `prune()` found and removed, summed over the layers. */
export interface PruneResult {
  /** Keys looked at. */
  scanned: number
  /** Keys removed (the three reasons below added up). */
  removed: number
  /** Entries past their last stale window (a layer without expiry of its own keeps them). */
  expired: number
  /** Entries a tag invalidated (hard): no read serves them, yet they stay until their own ttl. */
  invalidated: number
  /** Keys of earlier key generations, unreachable since `bumpGeneration()`. */
  oldGenerations: number
}

const BATCH = 500
const GENERATION = /^g(\d+):/

/** The view's keys that start with `prefix`, relative to the view, from every layer (repeats across layers skipped). */
export async function* viewKeys(view: StackView, prefix: unknown): AsyncGenerator<string> {
  if (typeof prefix !== 'string') throw new ValidationError('"prefix" must be a string', 'prefix')
  const engine = view.engine
  engine.assertOpen()
  const scope = view.full('')
  // With one layer a key cannot come from two of them; with several, the ones seen are remembered.
  const seen = engine.layers.length > 1 ? new Set<string>() : undefined
  for (const layer of engine.layers) {
    for await (const key of layer.keys(scope + prefix)) {
      if (key.startsWith(SYSTEM_PREFIX)) continue
      if (seen) {
        if (seen.has(key)) continue
        seen.add(key)
      }
      yield key.slice(scope.length)
    }
  }
}

/**
 * Removes from every layer the view's keys no read can reach: entries past their last window, entries
 * a tag hard-invalidated, and keys of earlier generations. Nothing is published: no instance serves
 * what is removed. A value rewritten between the check and the removal may go too, which costs a miss.
 */
export async function prune(view: StackView): Promise<PruneResult> {
  const engine = view.engine
  engine.assertOpen()
  const result: PruneResult = { scanned: 0, removed: 0, expired: 0, invalidated: 0, oldGenerations: 0 }
  for (let i = 0; i < engine.layers.length; i++) await pruneLayer(engine, i, view.namespace, result)
  result.removed = result.expired + result.invalidated + result.oldGenerations
  return result
}

async function pruneLayer(engine: StackEngine, i: number, namespace: string, result: PruneResult) {
  const layer = engine.layers[i]!
  const current = engine.generation
  // Earlier generations live under other `g<n>:` prefixes, so with generations on the whole layer is walked.
  const scan = current === undefined ? namespace : ''
  let candidates: string[] = []
  let old: string[] = []
  const flush = async () => {
    if (old.length > 0) result.oldGenerations += await layer.deleteMany(old)
    if (candidates.length > 0) await removeDead(engine, i, candidates, result)
    old = []
    candidates = []
  }
  for await (const key of layer.keys(scan)) {
    if (key.startsWith(SYSTEM_PREFIX)) continue
    result.scanned++
    if (current === undefined) candidates.push(key)
    else {
      const match = GENERATION.exec(key)
      // Keys written before generations were turned on, another namespace's, or a newer generation's stay.
      if (match === null || !key.startsWith(namespace, match[0].length)) continue
      const generation = Number(match[1])
      if (generation < current) old.push(key)
      else if (generation === current) candidates.push(key)
    }
    if (candidates.length + old.length >= BATCH) await flush()
  }
  await flush()
}

async function removeDead(engine: StackEngine, i: number, keys: string[], result: PruneResult) {
  const layer = engine.layers[i]!
  const entries = await layer.getMany(keys)
  const now = engine.clock.now()
  const expired: string[] = []
  const invalidated: string[] = []
  for (let j = 0; j < keys.length; j++) {
    const entry = entries[j] as CacheEntry | undefined
    if (entry === undefined) continue
    if (now >= physicalEnd(entry)) expired.push(keys[j]!)
    else if (entry.tags !== undefined) {
      // Another instance may have invalidated the tag: its state is in the shared layer.
      if (!layer.isLocal) await engine.loadTagStates(i, entry)
      if (engine.tags.check(entry) === HARD_INVALIDATED) invalidated.push(keys[j]!)
    }
  }
  if (expired.length > 0) result.expired += await layer.deleteMany(expired)
  if (invalidated.length > 0) result.invalidated += await layer.deleteMany(invalidated)
}

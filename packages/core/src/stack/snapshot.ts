// exportState / importState and their file forms: what a view holds, with its absolute times and tags,
// moved out and back in.

import { SnapshotError, ValidationError } from '../errors.ts'
import { optionNames } from '../internal/known-options.ts'
import { findUnstorable, JSON_VALUES } from '../internal/value-check.ts'
import { type CacheEntry, FOREVER } from '../layer.ts'
import { assertOptionsObject } from './call-options.ts'
import { physicalEnd } from './entry-times.ts'
import { writeEntry } from './entry-writes.ts'
import { SYSTEM_PREFIX } from './shared-state.ts'
import { confinedPath, readSnapshotText, writeAtomically } from './snapshot-file.ts'
import { HARD_INVALIDATED } from './tags.ts'
import type { StackView } from './view.ts'

/** Marks a snapshot object; anything else handed to `importState` is refused. */
export const SNAPSHOT_FORMAT = 'cachestack-snapshot'
/** The snapshot layout this version writes and reads. */
export const SNAPSHOT_VERSION = 1

/**
 * One entry of a snapshot. Times are absolute (epoch ms of the stack's clock): an entry restored later
 * keeps what is left of its ttl and stale windows, an entry whose end has passed is not restored, and
 * `createdAt` still loses to a tag invalidated after it.
 */
export interface SnapshotEntry {
  /** Relative to the view that exported it (no namespace or generation prefix). */
  key: string
  value: unknown
  createdAt: number
  freshUntil: number
  swrUntil: number
  graceUntil: number
  tags?: string[] | undefined
  /** The namespace path the entry was written through, relative to the exporting view. */
  namespace?: string | undefined
  missing?: true | undefined
  sliding?: number | undefined
}

/** What `exportState()` returns and `importState()` takes; plain data, `JSON.stringify`-able when the values are. */
export interface CacheSnapshot {
  format: typeof SNAPSHOT_FORMAT
  version: typeof SNAPSHOT_VERSION
  /** When the snapshot was taken, by the stack's clock. */
  exportedAt: number
  entries: SnapshotEntry[]
}

/** What a progress callback of a snapshot call receives: every 1,000 entries and once at the end. */
export interface SnapshotProgress {
  done: number
  total: number
}

/** Options of `exportState`, `importState`, `persistToFile` and `restoreFromFile`. */
export interface SnapshotOptions {
  /** Called every 1,000 entries and once at the end; an exception it throws is ignored. */
  onProgress?: ((progress: SnapshotProgress) => void) | undefined
}

/** What `importState` and `restoreFromFile` resolve to. */
export interface RestoreResult {
  total: number
  restored: number
  /** Past their end (or hard-invalidated by a tag) by the time of the restore. */
  expired: number
  /** Skipped because the cache already held a newer entry for the key. */
  newer: number
}

const SNAPSHOT_OPTION_NAMES = optionNames<SnapshotOptions>({ onProgress: true })
const PROGRESS_EVERY = 1_000

function progressOf(
  options: SnapshotOptions | undefined,
  what: string,
): (done: number, total: number) => void {
  if (options === undefined) return () => {}
  assertOptionsObject(options, SNAPSHOT_OPTION_NAMES, `an option of ${what}`)
  const callback = options.onProgress
  if (callback === undefined) return () => {}
  if (typeof callback !== 'function')
    throw new ValidationError('"onProgress" must be a function', 'onProgress')
  return (done, total) => {
    if (done !== total && done % PROGRESS_EVERY !== 0) return
    try {
      callback({ done, total })
    } catch {
      // A progress display must not break the snapshot it reports on.
    }
  }
}

/** Every live entry of the view: the first layer holding a key answers for it (as a read would). */
export async function exportState(view: StackView, options?: SnapshotOptions): Promise<CacheSnapshot> {
  const report = progressOf(options, 'exportState()')
  const engine = view.engine
  engine.assertOpen()
  const scan = view.full('')
  const found = new Map<string, number>()
  for (let i = 0; i < engine.layers.length; i++) {
    for await (const key of engine.layers[i]!.keys(scan)) {
      if (!key.startsWith(SYSTEM_PREFIX) && !found.has(key)) found.set(key, i)
    }
  }
  const entries: SnapshotEntry[] = []
  let done = 0
  for (const [key, first] of found) {
    for (let i = first; i < engine.layers.length; i++) {
      const hit = await engine.access.peek(i, key)
      if (hit !== undefined) {
        entries.push(toSnapshotEntry(key.slice(scan.length), hit.entry, view.namespace))
        break
      }
    }
    report(++done, found.size)
  }
  if (found.size === 0) report(0, 0)
  return { format: SNAPSHOT_FORMAT, version: SNAPSHOT_VERSION, exportedAt: engine.clock.now(), entries }
}

function toSnapshotEntry(key: string, entry: CacheEntry, namespace: string): SnapshotEntry {
  const out: SnapshotEntry = {
    key,
    value: entry.value,
    createdAt: entry.createdAt,
    freshUntil: entry.freshUntil,
    swrUntil: entry.swrUntil,
    graceUntil: entry.graceUntil,
  }
  if (entry.tags !== undefined) out.tags = [...entry.tags]
  if (entry.namespace !== undefined && entry.namespace.startsWith(namespace) && entry.namespace !== namespace)
    out.namespace = entry.namespace.slice(namespace.length)
  if (entry.missing) out.missing = true
  if (entry.sliding !== undefined) out.sliding = entry.sliding
  return out
}

/**
 * Writes a snapshot's live entries into the view. The whole snapshot is checked first: a malformed one
 * is a `SnapshotError` and nothing already cached is touched. A newer entry already cached for a key wins.
 */
export async function importState(
  view: StackView,
  snapshot: unknown,
  options?: SnapshotOptions,
): Promise<RestoreResult> {
  const report = progressOf(options, 'importState()')
  const engine = view.engine
  engine.assertOpen()
  const entries = checkSnapshot(snapshot)
  const result: RestoreResult = { total: entries.length, restored: 0, expired: 0, newer: 0 }
  const now = engine.clock.now()
  let done = 0
  for (const item of entries) {
    const entry = toCacheEntry(item, view.namespace)
    const key = view.full(item.key)
    // A restored entry is older than what this instance may know of its tags: a tag invalidated (on
    // another instance) after the snapshot lives in the shared layers, and must be known before the
    // entry reaches a local layer, where reads trust this instance's registry.
    if (entry.tags !== undefined) await loadSharedTagStates(view, entry)
    if (physicalEnd(entry) <= now || engine.tags.check(entry) === HARD_INVALIDATED) result.expired++
    else if (await holdsNewer(view, key, entry.createdAt)) result.newer++
    else {
      await writeEntry(engine, key, entry, engine.defaults.layerTtls)
      result.restored++
    }
    report(++done, entries.length)
  }
  if (entries.length === 0) report(0, 0)
  return result
}

async function loadSharedTagStates(view: StackView, entry: CacheEntry): Promise<void> {
  const engine = view.engine
  for (let i = 0; i < engine.layers.length; i++) {
    if (!engine.layers[i]!.isLocal && !engine.isDegraded(i)) await engine.loadTagStates(i, entry)
  }
}

async function holdsNewer(view: StackView, key: string, createdAt: number): Promise<boolean> {
  const engine = view.engine
  for (let i = 0; i < engine.layers.length; i++) {
    const hit = await engine.access.peek(i, key)
    if (hit !== undefined) return hit.entry.createdAt >= createdAt
  }
  return false
}

function toCacheEntry(item: SnapshotEntry, namespace: string): CacheEntry {
  // Built field by field: nothing but the known fields of a checked entry reaches a layer.
  const entry: CacheEntry = {
    value: item.value,
    createdAt: item.createdAt,
    freshUntil: item.freshUntil,
    swrUntil: item.swrUntil,
    graceUntil: item.graceUntil,
  }
  if (item.tags !== undefined) entry.tags = [...item.tags]
  const full = namespace + (item.namespace ?? '')
  if (full !== '') entry.namespace = full
  if (item.missing) entry.missing = true
  if (item.sliding !== undefined) entry.sliding = item.sliding
  return entry
}

const ENTRY_FIELDS = new Set([
  'key',
  'value',
  'createdAt',
  'freshUntil',
  'swrUntil',
  'graceUntil',
  'tags',
  'namespace',
  'missing',
  'sliding',
])

/** The entries of a well-formed snapshot, or a `SnapshotError` saying what is wrong where. */
function checkSnapshot(snapshot: unknown): SnapshotEntry[] {
  if (!isRecord(snapshot) || snapshot.format !== SNAPSHOT_FORMAT) {
    throw new SnapshotError(`Not a cachestack snapshot (expected format "${SNAPSHOT_FORMAT}")`)
  }
  if (snapshot.version !== SNAPSHOT_VERSION) {
    throw new SnapshotError(
      `Snapshot version ${String(snapshot.version)} is not supported (expected ${SNAPSHOT_VERSION})`,
    )
  }
  if (!Array.isArray(snapshot.entries)) throw new SnapshotError('Snapshot "entries" must be an array')
  const entries = snapshot.entries as unknown[]
  for (let i = 0; i < entries.length; i++) {
    const problem = entryProblem(entries[i])
    if (problem !== undefined)
      throw new SnapshotError(`Snapshot entries[${i}] ${problem}; nothing was restored`)
  }
  return entries as SnapshotEntry[]
}

function entryProblem(item: unknown): string | undefined {
  if (!isRecord(item)) return 'is not an object'
  for (const name of Object.keys(item)) if (!ENTRY_FIELDS.has(name)) return `has an unknown field "${name}"`
  if (typeof item.key !== 'string' || item.key.length === 0) return 'has no key'
  if (item.value === undefined) return 'has no value'
  for (const name of ['createdAt', 'freshUntil', 'swrUntil', 'graceUntil'] as const) {
    const time = item[name]
    if (typeof time !== 'number' || !Number.isFinite(time) || time < 0 || time > FOREVER)
      return `has a bad "${name}"`
  }
  if (
    (item.swrUntil as number) < (item.freshUntil as number) ||
    (item.graceUntil as number) < (item.freshUntil as number)
  )
    return 'has stale windows ending before its fresh period'
  if (
    item.tags !== undefined &&
    (!Array.isArray(item.tags) || item.tags.some((tag) => typeof tag !== 'string'))
  )
    return 'has bad "tags"'
  if (item.namespace !== undefined && typeof item.namespace !== 'string') return 'has a bad "namespace"'
  if (item.missing !== undefined && item.missing !== true) return 'has a bad "missing"'
  if (item.sliding !== undefined && (typeof item.sliding !== 'number' || !(item.sliding > 0)))
    return 'has a bad "sliding"'
  return undefined
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** `exportState` written as JSON to a file inside `snapshotBaseDir`, atomically. */
export async function persistToFile(
  view: StackView,
  path: string,
  options?: SnapshotOptions,
): Promise<number> {
  const target = await confinedPath(view.engine.snapshotBaseDir, path)
  const snapshot = await exportState(view, options)
  for (const entry of snapshot.entries) {
    const problem = findUnstorable(entry.value, JSON_VALUES)
    if (problem !== undefined) {
      throw new SnapshotError(
        `Cannot write key "${entry.key}" to a JSON snapshot: ${problem.what} at "${problem.path}"; nothing was written`,
      )
    }
  }
  await writeAtomically(target, JSON.stringify(snapshot))
  return snapshot.entries.length
}

/** Reads a file written by `persistToFile` (inside `snapshotBaseDir`) and imports it. */
export async function restoreFromFile(
  view: StackView,
  path: string,
  options?: SnapshotOptions,
): Promise<RestoreResult> {
  const target = await confinedPath(view.engine.snapshotBaseDir, path)
  return importState(view, await readSnapshotText(target), options)
}

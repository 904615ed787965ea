// The methods of a stack that move many entries at once: warm-up, snapshots, key listing and pruning.
// A base class of the facade, so cache-stack.ts keeps to the single-entry API (itself over the
// coordination methods).

import { CoordinationMethods } from './coordination/coordination-methods.ts'
import { type PruneResult, prune, viewKeys } from './stack/scan.ts'
import type { CacheSnapshot, RestoreResult, SnapshotOptions } from './stack/snapshot.ts'
import * as snapshots from './stack/snapshot.ts'
import type { StackView } from './stack/view.ts'
import * as reads from './stack/view-reads.ts'
import { type WarmEntry, type WarmOptions, type WarmResult, warm } from './stack/warm.ts'

/** Warm-up, snapshot, key listing and pruning methods of every `CacheStack` and namespace view. */
export class BulkMethods extends CoordinationMethods {
  readonly #view: StackView

  constructor(view: StackView) {
    super(view)
    this.#view = view
  }

  /** Fills the cache ahead of traffic (`getOrSet` per entry): highest `priority` first, at most `concurrency` at once. */
  warm(entries: readonly WarmEntry[], options?: WarmOptions): Promise<WarmResult> {
    const view = this.#view
    return view.trace(
      () => ({ operation: 'warm' }),
      () => warm(entries, options, (key, factory, call) => reads.readKey(view, key, factory, call)),
    )
  }

  /** Every live entry of this stack (or namespace) with its absolute times and tags, as plain data. */
  exportState(options?: SnapshotOptions): Promise<CacheSnapshot> {
    const view = this.#view
    return view.trace(
      () => ({ operation: 'exportState' }),
      () => snapshots.exportState(view, options),
    )
  }

  /** Writes a snapshot's entries that are still alive; a malformed snapshot is a `SnapshotError`, nothing written. */
  importState(snapshot: CacheSnapshot, options?: SnapshotOptions): Promise<RestoreResult> {
    const view = this.#view
    return view.trace(
      () => ({ operation: 'importState' }),
      () => snapshots.importState(view, snapshot, options),
    )
  }

  /** `exportState` as JSON, written atomically to `path` inside `snapshotBaseDir`; resolves to the entry count. */
  persistToFile(path: string, options?: SnapshotOptions): Promise<number> {
    const view = this.#view
    return view.trace(
      () => ({ operation: 'persistToFile' }),
      () => snapshots.persistToFile(view, path, options),
    )
  }

  /** `importState` of a file written by `persistToFile` (inside `snapshotBaseDir`). */
  restoreFromFile(path: string, options?: SnapshotOptions): Promise<RestoreResult> {
    const view = this.#view
    return view.trace(
      () => ({ operation: 'restoreFromFile' }),
      () => snapshots.restoreFromFile(view, path, options),
    )
  }

  /**
   * The keys of this stack (or namespace) that start with `prefix`, as given to `set` (no namespace or
   * generation prefix), from every layer; SCAN on Redis, every master of a Cluster. As with SCAN, a key
   * may come twice while Redis resizes its tables.
   */
  keys(prefix = ''): AsyncIterable<string> {
    return viewKeys(this.#view, prefix)
  }

  /**
   * Removes from every layer what no read can reach any more: entries past their last stale window,
   * entries a tag hard-invalidated, and keys of earlier generations. Publishes nothing (no instance
   * serves them); resolves with what it found.
   */
  prune(): Promise<PruneResult> {
    const view = this.#view
    return view.trace(
      () => ({ operation: 'prune' }),
      () => prune(view),
    )
  }
}

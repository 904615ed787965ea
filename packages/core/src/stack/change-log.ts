/**
 * Which keys were written or removed while reads were in flight, so that a read which started before a
 * change does not back-fill what it read into a faster layer. Without it, a slow Redis read racing a
 * `set` or `delete` (local, or from another instance through the bus) would put the old value back
 * into memory, where it would stay until its ttl. Changes are only recorded while some read holds a
 * mark, and the log is dropped whenever none does, so it stays small and costs nothing when idle.
 */
export class ChangeLog {
  readonly #keys = new Map<string, number>()
  readonly #limit: number
  #readers = 0
  #sequence = 0
  /** Sequence of the last change to an unknown set of keys (clear, prefix, pattern). */
  #broad = 0
  /** Sequence up to which per-key changes were forgotten (the log overflowed): older marks are overtaken. */
  #floor = 0

  constructor(limit = 10_000) {
    this.#limit = limit
  }

  /** Takes a mark before a read starts; give it back with `release()` when the read is done. */
  mark(): number {
    this.#readers++
    return this.#sequence
  }

  release(): void {
    // Map.clear() allocates a fresh table even when empty: only clear a log that holds something.
    if (--this.#readers === 0 && this.#keys.size > 0) this.#keys.clear()
  }

  /** Records that these keys changed. */
  changed(keys: readonly string[]): void {
    if (this.#readers === 0) return
    if (this.#keys.size + keys.length > this.#limit) {
      this.#keys.clear()
      this.#floor = this.#sequence + 1
    }
    for (const key of keys) this.#keys.set(key, ++this.#sequence)
  }

  /** `changed([key])` without the array: a write of one key while no read is in flight costs one branch. */
  changedKey(key: string): void {
    if (this.#readers === 0) return
    if (this.#keys.size + 1 > this.#limit) {
      this.#keys.clear()
      this.#floor = this.#sequence + 1
    }
    this.#keys.set(key, ++this.#sequence)
  }

  /** Records a change to keys that cannot be listed (a clear, a prefix or pattern invalidation). */
  changedMany(): void {
    if (this.#readers > 0) this.#broad = ++this.#sequence
  }

  /** Whether `key` may have changed after `mark` was taken. */
  changedSince(key: string, mark: number): boolean {
    if (this.#sequence === mark) return false
    if (this.#broad > mark || this.#floor > mark) return true
    return (this.#keys.get(key) ?? 0) > mark
  }
}

/**
 * Which keys were written or removed, in order, so that a read which started before a change does not
 * back-fill what it read into a faster layer. Without it, a slow Redis read racing a `set` or `delete`
 * (local, or from another instance through the bus) would put the old value back into memory, where
 * it would stay until its ttl. Bounded: past `limit` keys the oldest are forgotten and any read older
 * than them is treated as overtaken.
 */
export class ChangeLog {
  readonly #keys = new Map<string, number>()
  readonly #limit: number
  #sequence = 0
  /** Sequence of the last change to an unknown set of keys (clear, prefix, pattern). */
  #broad = 0
  /** Highest sequence forgotten by trimming. */
  #floor = 0

  constructor(limit = 10_000) {
    this.#limit = limit
  }

  /** A mark to compare with later: take it before a read starts. */
  mark(): number {
    return this.#sequence
  }

  /** Records that these keys changed. */
  changed(keys: readonly string[]): void {
    for (const key of keys) {
      this.#keys.delete(key)
      this.#keys.set(key, ++this.#sequence)
    }
    while (this.#keys.size > this.#limit) {
      const [oldest, sequence] = this.#keys.entries().next().value as [string, number]
      this.#keys.delete(oldest)
      this.#floor = sequence
    }
  }

  /** Records a change to keys that cannot be listed (a clear, a prefix or pattern invalidation). */
  changedMany(): void {
    this.#broad = ++this.#sequence
  }

  /** Whether `key` may have changed after `mark` was taken. */
  changedSince(key: string, mark: number): boolean {
    if (this.#sequence === mark) return false
    if (this.#broad > mark || this.#floor > mark) return true
    return (this.#keys.get(key) ?? 0) > mark
  }
}

/** What the disk layer remembers of one file, so misses, `keys`, `clear` and eviction need no disk read. */
export interface DiskRecord {
  readonly key: string
  /** The file's name inside the directory (the SHA-256 of the key). */
  readonly file: string
  /** The file's size in bytes, header included. */
  readonly bytes: number
  /** Epoch ms after which the entry is expired; `undefined` for never. */
  readonly expiresAt: number | undefined
}

/**
 * The in-memory index of a disk layer's files, least recently used first (a `Map` keeps insertion
 * order, and a use moves the record to the end), with the running total of their sizes.
 */
export class DiskIndex {
  readonly #records = new Map<string, DiskRecord>()
  #bytes = 0

  /** Number of files. */
  get size(): number {
    return this.#records.size
  }

  /** Total bytes of the files. */
  get bytes(): number {
    return this.#bytes
  }

  get(key: string): DiskRecord | undefined {
    return this.#records.get(key)
  }

  /** Marks `record` as the most recently used. */
  touch(record: DiskRecord): void {
    if (this.#records.get(record.key) !== record) return
    this.#records.delete(record.key)
    this.#records.set(record.key, record)
  }

  /** Adds or replaces the record of `record.key`, as the most recently used. */
  put(record: DiskRecord): void {
    this.remove(record.key)
    this.#records.set(record.key, record)
    this.#bytes += record.bytes
  }

  /** Forgets `key`'s record (only when it is `expected`, if given); answers the record forgotten. */
  remove(key: string, expected?: DiskRecord): DiskRecord | undefined {
    const record = this.#records.get(key)
    if (record === undefined || (expected !== undefined && record !== expected)) return undefined
    this.#records.delete(key)
    this.#bytes -= record.bytes
    return record
  }

  /** Forgets and answers the least recently used records until both limits hold. */
  overflow(maxFiles: number, maxBytes: number): DiskRecord[] {
    const out: DiskRecord[] = []
    for (const record of this.#records.values()) {
      if (this.#records.size - out.length <= maxFiles && this.#bytes <= maxBytes) break
      out.push(record)
      this.#bytes -= record.bytes
    }
    for (const record of out) this.#records.delete(record.key)
    return out
  }

  /** A snapshot of the records, least recently used first. */
  records(): DiskRecord[] {
    return [...this.#records.values()]
  }
}

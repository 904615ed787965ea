import { constants } from 'node:fs'
import { access, mkdir, readdir, readFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { LayerError, ValidationError } from '../errors.ts'
import { CorruptedEntryError, EntryCodec } from '../internal/serialization.ts'
import {
  CUSTOM_SERIALIZER_VALUES,
  JSON_VALUES,
  MSGPACK_VALUES,
  type ValueSupport,
} from '../internal/value-check.ts'
import {
  type CacheEntry,
  type CacheLayer,
  type Clock,
  type LayerContext,
  type LayerWrite,
  systemClock,
} from '../layer.ts'
import {
  type DiskFileInfo,
  decodeEntryFile,
  ENTRY_FILE_NAME,
  encodeEntryFile,
  entryFileName,
  readEntryHeader,
  TEMP_FILE_NAME,
  writeFileAtomic,
} from './disk-file.ts'
import { DiskGate } from './disk-gate.ts'
import { DiskIndex, type DiskRecord } from './disk-index.ts'
import {
  type DiskLayerOptions,
  type NormalizedDiskLayerOptions,
  normalizeDiskLayerOptions,
} from './disk-options.ts'

export type { DiskLayerOptions } from './disk-options.ts'

// Headers read at once while rebuilding the index: enough to keep the disk busy, few enough file handles.
const OPEN_CONCURRENCY = 32
// Files open at once for reads, writes and removals: far below any usual descriptor limit (1024).
const FILE_CONCURRENCY = 64

/**
 * A layer on the local file system (`node:fs`): one file per entry, named by the SHA-256 of its key,
 * written atomically (temporary file + rename). An in-memory index (rebuilt from the file headers when
 * the layer starts) answers misses, `keys`, `clear` and least-recently-used eviction without touching
 * the disk; a hit reads one file. A file that is damaged or truncated is a miss: it is removed and the
 * error reported to the stack. The index belongs to this process, so give each process its own directory.
 */
export class DiskLayer implements CacheLayer {
  readonly name: string
  /** The directory belongs to this process (its index is in memory), so bus invalidations must reach it. */
  readonly isLocal = true
  /** Plain JSON with `'json'`; dates, byte arrays and NaN too with `'msgpack'`; a custom serializer is trusted. */
  readonly storable: ValueSupport
  /** Absolute path of the directory holding the files. */
  readonly directory: string
  readonly #options: NormalizedDiskLayerOptions
  readonly #codec: EntryCodec
  readonly #index = new DiskIndex()
  readonly #gate = new DiskGate(FILE_CONCURRENCY)
  /** The last operation queued per key: writes, deletes and removals of one key run one after another. */
  readonly #locks = new Map<string, Promise<void>>()
  #opening: Promise<void> | undefined
  #clock: Clock = systemClock
  #context: LayerContext | undefined

  constructor(options: DiskLayerOptions) {
    this.#options = normalizeDiskLayerOptions(options)
    this.name = this.#options.name
    this.directory = this.#options.directory
    const { serializer } = this.#options
    this.#codec = new EntryCodec({
      serializer,
      compression: undefined,
      compressionThreshold: Number.POSITIVE_INFINITY,
      maxDecompressedSize: Number.POSITIVE_INFINITY,
    })
    this.storable =
      serializer === 'json'
        ? JSON_VALUES
        : serializer === 'msgpack'
          ? MSGPACK_VALUES
          : CUSTOM_SERIALIZER_VALUES
  }

  attach(context: LayerContext): void {
    this.#context = context
    this.#clock = context.clock
  }

  /** Number of files the layer holds. */
  get fileCount(): number {
    return this.#index.size
  }

  /** Total bytes of the files the layer holds. */
  get byteCount(): number {
    return this.#index.bytes
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    await this.#open('get')
    const record = this.#index.get(key)
    if (record === undefined) return undefined
    if (this.#expired(record)) {
      await this.#drop(record)
      return undefined
    }
    this.#index.touch(record)
    return this.#read(record, 'get')
  }

  async getMany(keys: readonly string[]): Promise<(CacheEntry | undefined)[]> {
    if (keys.length === 0) return []
    await this.#open('getMany')
    const reads = new Map<string, Promise<CacheEntry | undefined>>()
    for (const key of keys) if (!reads.has(key)) reads.set(key, this.get(key))
    const entries = new Map<string, CacheEntry | undefined>()
    for (const [key, read] of reads) entries.set(key, await read)
    // A repeated key gets its own copy, so no two callers share (and can change) one decoded object.
    const seen = new Set<string>()
    return keys.map((key) => {
      const entry = entries.get(key)
      if (entry === undefined || !seen.has(key)) {
        seen.add(key)
        return entry
      }
      return structuredClone(entry)
    })
  }

  async set(key: string, entry: CacheEntry, ttl: number | undefined): Promise<void> {
    await this.#open('set')
    const expiresAt = this.#expiryOf(ttl)
    let data: Buffer
    try {
      const payload = await this.#codec.encode(entry)
      data = encodeEntryFile(
        key,
        expiresAt,
        typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload,
      )
    } catch (error) {
      throw new LayerError(this.name, 'set', error)
    }
    if (data.length > this.#options.maxEntryBytes) {
      // The older value must not outlive a write that was refused.
      await this.delete(key)
      throw new LayerError(
        this.name,
        'set',
        new RangeError(
          `an entry of ${data.length} bytes exceeds "maxEntryBytes" (${this.#options.maxEntryBytes})`,
        ),
      )
    }
    const file = entryFileName(key)
    await this.#serial(key, async () => {
      try {
        await this.#gate.run(() => writeFileAtomic(this.directory, file, data))
      } catch (error) {
        throw new LayerError(this.name, 'set', error)
      }
      this.#index.put({ key, file, bytes: data.length, expiresAt })
    })
    await this.#evict()
  }

  async setMany(writes: readonly LayerWrite[]): Promise<void> {
    if (writes.length === 0) return
    await Promise.all(writes.map(({ key, entry, ttl }) => this.set(key, entry, ttl)))
  }

  async delete(key: string): Promise<boolean> {
    await this.#open('delete')
    return this.#serial(key, async () => {
      const record = this.#index.remove(key)
      if (record === undefined) return false
      await this.#unlink(record, 'delete')
      return !this.#expired(record)
    })
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    const removed = await Promise.all([...new Set(keys)].map((key) => this.delete(key)))
    return removed.filter(Boolean).length
  }

  /** Removes the files of the keys under `prefix` (all of them when omitted), found in the index, not by reading files. */
  async clear(prefix = ''): Promise<void> {
    await this.#open('clear')
    const doomed = this.#index.records().filter((record) => record.key.startsWith(prefix))
    await Promise.all(doomed.map((record) => this.#drop(record, 'clear')))
  }

  async *keys(prefix = ''): AsyncIterable<string> {
    await this.#open('keys')
    for (const record of this.#index.records()) {
      if (record.key.startsWith(prefix) && !this.#expired(record)) yield record.key
    }
  }

  async has(key: string): Promise<boolean> {
    await this.#open('has')
    const record = this.#index.get(key)
    return record !== undefined && !this.#expired(record)
  }

  async ttl(key: string): Promise<number | undefined> {
    await this.#open('ttl')
    const record = this.#index.get(key)
    if (record === undefined || this.#expired(record)) return undefined
    return record.expiresAt === undefined ? Number.POSITIVE_INFINITY : record.expiresAt - this.#clock.now()
  }

  /** Removes the files of expired entries; answers how many it removed. */
  async prune(): Promise<number> {
    await this.#open('prune')
    const expired = this.#index.records().filter((record) => this.#expired(record))
    const removed = await Promise.all(expired.map((record) => this.#drop(record, 'prune')))
    return removed.filter(Boolean).length
  }

  async ping(): Promise<void> {
    await this.#open('ping')
    try {
      await access(this.directory, constants.R_OK | constants.W_OK)
    } catch (error) {
      throw new LayerError(this.name, 'ping', error)
    }
  }

  /** Waits for the writes and removals in flight; the files stay for the next layer on this directory. */
  async dispose(): Promise<void> {
    while (this.#locks.size > 0) await Promise.all(this.#locks.values())
  }

  /** Creates the directory and rebuilds the index from the file headers, once. */
  #open(operation: string): Promise<void> {
    this.#opening ??= this.#rebuild().catch((error) => {
      this.#opening = undefined
      throw new LayerError(this.name, operation, error)
    })
    return this.#opening
  }

  async #rebuild(): Promise<void> {
    await mkdir(this.directory, { recursive: true })
    const names = await readdir(this.directory)
    const found: DiskFileInfo[] = []
    const files = names.filter((name) => ENTRY_FILE_NAME.test(name))
    // A temporary file is a write that crashed before its rename: nobody will ever read it.
    await Promise.all(
      names
        .filter((name) => TEMP_FILE_NAME.test(name))
        .map((name) => unlink(join(this.directory, name)).catch(() => {})),
    )
    let next = 0
    const worker = async () => {
      while (next < files.length) {
        const name = files[next++]!
        const path = join(this.directory, name)
        try {
          const info = await readEntryHeader(path)
          if (entryFileName(info.key) !== name)
            throw new CorruptedEntryError('entry file is under another key name')
          if (info.expiresAt !== undefined && info.expiresAt <= this.#clock.now()) await unlink(path)
          else found.push(info)
        } catch (error) {
          if (!(error instanceof CorruptedEntryError)) throw error
          this.#context?.reportError(error, 'open')
          await unlink(path).catch(() => {})
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(OPEN_CONCURRENCY, files.length) }, worker))
    // Oldest write first: the best guess of least recent use that survives a restart.
    found.sort((a, b) => a.mtimeMs - b.mtimeMs)
    for (const info of found) {
      this.#index.put({
        key: info.key,
        file: entryFileName(info.key),
        bytes: info.fileBytes,
        expiresAt: info.expiresAt,
      })
    }
    await this.#evict()
  }

  async #read(record: DiskRecord, operation: string): Promise<CacheEntry | undefined> {
    let data: Buffer
    try {
      data = await this.#gate.run(() => readFile(join(this.directory, record.file)))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        // Removed behind the index's back (by hand, or a concurrent removal): a plain miss.
        this.#index.remove(record.key, record)
        return undefined
      }
      throw new LayerError(this.name, operation, error)
    }
    try {
      const { header, payload } = decodeEntryFile(data)
      if (header.key !== record.key) throw new CorruptedEntryError('entry file holds another key')
      if (header.expiresAt !== undefined && header.expiresAt <= this.#clock.now()) return undefined
      return await this.#codec.decodeBytes(payload, this.#context?.isDead)
    } catch (error) {
      if (!(error instanceof CorruptedEntryError)) throw new LayerError(this.name, operation, error)
      if (this.#index.get(record.key) === record) this.#context?.reportError(error, operation, record.key)
      await this.#drop(record, operation)
      return undefined
    }
  }

  /**
   * Forgets `record` at once (so a concurrent reader of the same damaged file neither reports it again
   * nor removes it twice), then removes its file unless a newer write of the key owns it by then.
   * Answers whether `record` was still the key's.
   */
  async #drop(record: DiskRecord, operation = 'get'): Promise<boolean> {
    if (this.#index.remove(record.key, record) === undefined) return false
    await this.#serial(record.key, async () => {
      if (this.#index.get(record.key) === undefined) await this.#unlink(record, operation)
    })
    return true
  }

  /** Removes the least recently used files until `maxFiles` and `maxBytes` hold. */
  async #evict(): Promise<void> {
    const victims = this.#index.overflow(this.#options.maxFiles, this.#options.maxBytes)
    if (victims.length === 0) return
    await Promise.all(
      victims.map((victim) =>
        this.#serial(victim.key, async () => {
          // A write of the same key that landed after the eviction owns the file now.
          if (this.#index.get(victim.key) === undefined) await this.#unlink(victim, 'evict')
        }),
      ),
    )
  }

  async #unlink(record: DiskRecord, operation: string): Promise<void> {
    try {
      await this.#gate.run(() => unlink(join(this.directory, record.file)))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new LayerError(this.name, operation, error)
    }
  }

  /** Runs `task` after every earlier task queued for `key`. */
  #serial<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(key)
    const run = previous === undefined ? task() : previous.then(task)
    const settled = run.then(
      () => {},
      () => {},
    )
    this.#locks.set(key, settled)
    settled.then(() => {
      if (this.#locks.get(key) === settled) this.#locks.delete(key)
    })
    return run
  }

  #expired(record: DiskRecord): boolean {
    return record.expiresAt !== undefined && record.expiresAt <= this.#clock.now()
  }

  #expiryOf(ttl: number | undefined): number | undefined {
    if (ttl === undefined || ttl === Number.POSITIVE_INFINITY) return undefined
    if (typeof ttl !== 'number' || Number.isNaN(ttl)) {
      throw new ValidationError(`"ttl" must be a number of milliseconds; got ${String(ttl)}`, 'ttl')
    }
    return this.#clock.now() + Math.max(1, Math.ceil(ttl))
  }
}

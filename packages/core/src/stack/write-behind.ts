import { ValidationError } from '../errors.ts'
import { assertKnownOptions, optionNames } from '../internal/known-options.ts'
import { type Duration, optionalDuration } from '../internal/units.ts'
import type { CacheEntry, CacheLayer, LayerWrite } from '../layer.ts'

/** Tuning of `writeStrategy: 'write-behind'`. */
export interface WriteBehindOptions {
  /** Queued writes flushed together in one `setMany` per layer. @default 100 */
  batchSize?: number | undefined
  /** Longest time a write waits in the queue. @default '100ms' */
  flushInterval?: Duration | undefined
  /** Most distinct keys queued; a write that finds the queue full flushes it first. @default 10_000 */
  maxQueue?: number | undefined
}

/** `writeBehind` after validation. */
export interface ResolvedWriteBehind {
  batchSize: number
  flushInterval: number
  maxQueue: number
}

const WRITE_BEHIND_NAMES = optionNames<WriteBehindOptions>({
  batchSize: true,
  flushInterval: true,
  maxQueue: true,
})

export const DEFAULT_WRITE_BEHIND: ResolvedWriteBehind = {
  batchSize: 100,
  flushInterval: 100,
  maxQueue: 10_000,
}

export function resolveWriteBehind(strategy: unknown, options: unknown): ResolvedWriteBehind | undefined {
  if (strategy === undefined || strategy === 'write-through') return undefined
  if (strategy !== 'write-behind') {
    throw new ValidationError(`"writeStrategy" must be 'write-through' or 'write-behind'`, 'writeStrategy')
  }
  if (options === undefined) return DEFAULT_WRITE_BEHIND
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('"writeBehind" must be { batchSize, flushInterval, maxQueue }', 'writeBehind')
  }
  assertKnownOptions(options, WRITE_BEHIND_NAMES, 'an option of new CacheStack()', 'writeBehind')
  const { batchSize, flushInterval, maxQueue } = options as WriteBehindOptions
  for (const [name, value] of [
    ['batchSize', batchSize],
    ['maxQueue', maxQueue],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
      throw new ValidationError(`"writeBehind.${name}" must be a positive integer`, `writeBehind.${name}`)
    }
  }
  return {
    batchSize: batchSize ?? DEFAULT_WRITE_BEHIND.batchSize,
    flushInterval:
      optionalDuration(flushInterval, 'writeBehind.flushInterval') ?? DEFAULT_WRITE_BEHIND.flushInterval,
    maxQueue: maxQueue ?? DEFAULT_WRITE_BEHIND.maxQueue,
  }
}

/** Where a flush sends its batches, and how it reports a layer that failed one. */
export interface WriteBehindTarget {
  readonly layers: readonly CacheLayer[]
  isDegraded(i: number): boolean
  failed(i: number, error: unknown, keys: readonly string[]): void
  /** A batch reached layer `i`: now other instances may be told (they would read the old value before). */
  written(i: number, keys: readonly string[]): void
}

/**
 * The queue of `writeStrategy: 'write-behind'`: local layers are written at once, shared layers get
 * the entry later, in batches. One slot per key and layer (the last write wins), so a hot key costs
 * one shared write per flush. A delete, clear or pattern invalidation removes queued writes before it
 * runs, so a flush never brings back a value that was removed after it was queued.
 */
export class WriteBehindQueue {
  readonly #target: WriteBehindTarget
  readonly #options: ResolvedWriteBehind
  readonly #queue = new Map<string, { key: string; layer: number; write: LayerWrite }>()
  #timer: NodeJS.Timeout | undefined
  #flushing: Promise<void> = Promise.resolve()

  constructor(target: WriteBehindTarget, options: ResolvedWriteBehind) {
    this.#target = target
    this.#options = options
  }

  get size(): number {
    return this.#queue.size
  }

  /** Queues `entry` for shared layer `layer`; a full queue is flushed before the call returns. */
  async enqueue(layer: number, key: string, entry: CacheEntry, ttl: number | undefined): Promise<void> {
    const slot = `${layer}\u0000${key}`
    this.#queue.delete(slot)
    this.#queue.set(slot, { key, layer, write: { key, entry, ttl } })
    if (this.#queue.size >= this.#options.maxQueue) await this.flush()
    else if (this.#queue.size >= this.#options.batchSize) void this.flush()
    else if (!this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined
        void this.flush()
      }, this.#options.flushInterval)
      this.#timer.unref()
    }
  }

  /** The entry queued for shared layer `layer`, if any: what a read of that layer must see (read-your-writes). */
  peek(layer: number, key: string): CacheEntry | undefined {
    if (this.#queue.size === 0) return undefined
    return this.#queue.get(`${layer}\u0000${key}`)?.write.entry
  }

  /** Forgets queued writes of these keys (they were deleted). */
  drop(keys: readonly string[]): void {
    if (this.#queue.size === 0) return
    const gone = new Set(keys)
    for (const [slot, item] of this.#queue) if (gone.has(item.key)) this.#queue.delete(slot)
  }

  /** Forgets queued writes whose key matches (a clear, prefix or pattern invalidation). */
  dropMatching(test: (key: string) => boolean): void {
    for (const [slot, item] of this.#queue) if (test(item.key)) this.#queue.delete(slot)
  }

  /** Resolves once no flush is writing: a delete must not race a batch that still holds its key. */
  settled(): Promise<void> {
    return this.#flushing
  }

  /** Writes everything queued; resolves when the shared layers answered (failures are reported). */
  flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
    this.#flushing = this.#flushing.then(() => this.#drain())
    return this.#flushing
  }

  async #drain(): Promise<void> {
    while (this.#queue.size > 0) {
      const perLayer = new Map<number, LayerWrite[]>()
      let taken = 0
      for (const [slot, item] of this.#queue) {
        if (taken++ >= this.#options.batchSize) break
        this.#queue.delete(slot)
        let writes = perLayer.get(item.layer)
        if (!writes) perLayer.set(item.layer, (writes = []))
        writes.push(item.write)
      }
      await Promise.all(
        [...perLayer].map(async ([i, writes]) => {
          const keys = writes.map((write) => write.key)
          // A layer that went down since the write was queued hears about it on recovery instead.
          if (this.#target.isDegraded(i)) return this.#target.failed(i, undefined, keys)
          try {
            await this.#target.layers[i]!.setMany(writes)
          } catch (error) {
            this.#target.failed(i, error, keys)
            return
          }
          this.#target.written(i, keys)
        }),
      )
    }
  }

  /** Flushes and stops the timer (on `disconnect()`). */
  async dispose(): Promise<void> {
    await this.flush()
  }
}

import { type CacheEntry, type CacheLayer, FOREVER, type LayerWrite } from '../layer.ts'
import type { BusCarriage } from './bus-message.ts'
import { SET_SEPARATOR, scopedNamesOf, type TagRegistry, type TagState } from './tags.ts'

/** Prefix of the stack's own bookkeeping keys in shared layers (tag states, generation). */
export const SYSTEM_PREFIX = '__cs:'
const TAG_KEY_PREFIX = `${SYSTEM_PREFIX}tag:`
const GENERATION_KEY = `${SYSTEM_PREFIX}generation`
/** Shortest time a tag state is kept in a shared layer. */
const MIN_TAG_STATE_RETENTION = 86_400_000

/** What a tag's key holds: its own state, and the `'all'`-mode set invalidations filed under it. */
interface StoredTagState extends TagState {
  sets?: Record<string, TagState>
  /**
   * When the key expires (epoch ms, `FOREVER` for never), so that a later writer keeps it at least that
   * long without asking Redis for its PTTL. Absent in states written before it existed.
   */
  until?: number
}

const NO_STATE: TagState = { hard: 0, soft: 0 }
/** Tries of the one-round-trip write before falling back to read-merge-write (each retry means a newer state). */
const MAX_STATE_ATTEMPTS = 3

/**
 * What instances share through a shared layer besides entries: tag invalidation states (so an instance
 * that reads an entry from Redis knows it was invalidated elsewhere) and the key generation.
 *
 * An `'all'`-mode invalidation of `[a, b]` is filed in the key of its first name (`a`), beside `a`'s own
 * state: every entry it applies to carries `a`, so the read that loads `a`'s state finds it, with no
 * extra round trip; writing it is the same one read-merge-write as a tag's own state.
 */
export class SharedState {
  readonly #layers: readonly CacheLayer[]
  readonly #tags: TagRegistry

  constructor(layers: readonly CacheLayer[], tags: TagRegistry) {
    this.#layers = layers
    this.#tags = tags
  }

  /**
   * Writes tag states to shared layer `i`, merged with what it holds: another instance may have recorded
   * a later invalidation that this one has not heard of, and states only move forward. `maxLifetime` is
   * the longest entry lifetime this instance has seen; a state must outlive every entry it could apply to.
   */
  async writeTagStates(
    i: number,
    names: readonly string[],
    maxLifetime: number,
    now: number,
    carriage?: BusCarriage,
  ): Promise<void> {
    const layer = this.#layers[i]!
    // Other instances may have written longer-lived entries than this one has seen: keep at least a day.
    const ttl = Number.isFinite(maxLifetime)
      ? Math.max(MIN_TAG_STATE_RETENTION, Math.ceil(maxLifetime))
      : undefined
    const writes = (list: readonly string[]) => list.map((name) => this.#stateWrite(name, ttl, now))
    let pending = names
    if (layer.writeStates) {
      // One round trip: written unless another instance stored a later state; that one is merged
      // (states only move forward) and written again.
      const keepAfter = ttl === undefined ? undefined : now - ttl
      for (let attempt = 0; attempt < MAX_STATE_ATTEMPTS && pending.length > 0; attempt++) {
        const results = await (attempt === 0 && carriage
          ? carried(layer.writeStates(writes(pending), keepAfter, false, carriage), carriage)
          : layer.writeStates(writes(pending), keepAfter))
        const later: string[] = []
        const unreadable: string[] = []
        results.forEach((result, j) => {
          if (result.written) return
          if (result.stored) this.#record([pending[j]!], [result.stored])
          ;(result.stored ? later : unreadable).push(pending[j]!)
        })
        if (unreadable.length > 0) await this.#mergeAndWrite(layer, unreadable, writes, keepAfter, now)
        pending = later
      }
    }
    if (pending.length > 0) await this.#mergeAndWrite(layer, pending, writes, undefined, now)
  }

  /**
   * Read, merge, write: for layers without `writeStates`, and for states it cannot compare. A state
   * keeps the longer of its remaining retention and ours (`writeStates` does the same on the server):
   * a tool that writes no entries, such as the CLI, would otherwise cut a forever state to a day and
   * revive the forever entries it had killed.
   */
  async #mergeAndWrite(
    layer: CacheLayer,
    names: readonly string[],
    writes: (names: readonly string[]) => LayerWrite[],
    keepAfter: number | undefined,
    now: number,
  ): Promise<void> {
    const states = await layer.getMany(names.map((name) => TAG_KEY_PREFIX + name))
    this.#record(names, states)
    if (layer.writeStates) {
      await layer.writeStates(writes(names), keepAfter, true)
      return
    }
    await layer.setMany(
      writes(names).map((write, j) => {
        // At least as long as the stored state said it would be kept.
        const theirs = (states[j]?.value as StoredTagState | undefined)?.until
        const ours = (write.entry.value as StoredTagState).until ?? FOREVER
        if (typeof theirs !== 'number' || theirs <= ours) return write
        const value = { ...(write.entry.value as StoredTagState), until: theirs }
        return {
          ...write,
          entry: { ...write.entry, value },
          ttl: theirs >= FOREVER ? undefined : Math.max(1, theirs - now),
        }
      }),
    )
  }

  #stateWrite(name: string, ttl: number | undefined, now: number): LayerWrite {
    const stored: StoredTagState = { ...(this.#tags.get(name) ?? NO_STATE) }
    const sets = this.#tags.setsUnder(name)
    if (sets) {
      // A set no entry can predate any more is dropped, so the key does not grow forever.
      for (const [id, state] of Object.entries(sets)) {
        if (ttl !== undefined && Math.max(state.hard, state.soft) + ttl < now) delete sets[id]
      }
      stored.sets = sets
    }
    return {
      key: TAG_KEY_PREFIX + name,
      entry: stateEntry(stored, ttl === undefined ? FOREVER : now + ttl),
      ttl,
    }
  }

  /** Fetches the states of an entry's tags (namespace-scoped ones included) from shared layer `i`. */
  async loadTagStates(i: number, entry: CacheEntry): Promise<void> {
    const names = scopedNamesOf(entry)
    this.#record(names, await this.#layers[i]!.getMany(names.map((name) => TAG_KEY_PREFIX + name)))
  }

  #record(names: readonly string[], states: readonly (CacheEntry | undefined)[]): void {
    states.forEach((state, j) => {
      if (!state || typeof state.value !== 'object' || state.value === null) return
      const stored = state.value as StoredTagState
      this.#tags.record(names[j]!, stored)
      if (typeof stored.sets !== 'object' || stored.sets === null) return
      for (const [id, set] of Object.entries(stored.sets)) this.#tags.recordSet(id.split(SET_SEPARATOR), set)
    })
  }

  /** Stores the key generation in every shared layer. */
  async writeGeneration(generation: number): Promise<void> {
    const entry = stateEntry({ hard: generation, soft: 0 })
    await Promise.all(
      this.#layers.map(async (layer) => {
        if (!layer.isLocal) await layer.set(GENERATION_KEY, entry, undefined)
      }),
    )
  }

  /** The highest generation any shared layer holds, or `undefined`; unreachable layers are skipped. */
  async readGeneration(): Promise<number | undefined> {
    let highest: number | undefined
    for (const layer of this.#layers) {
      if (layer.isLocal) continue
      try {
        highest = higher(highest, await generationIn(layer))
      } catch {}
    }
    return highest
  }
}

/**
 * The key generation `bumpGeneration()` stored in the shared layers (the highest one), or `undefined`
 * when none holds one (generations off, or never bumped). A tool that works on a running stack's keys
 * from outside (the `cachestack` CLI) starts its own stack at this generation. Rejects when a shared
 * layer fails.
 */
export async function storedGeneration(layers: readonly CacheLayer[]): Promise<number | undefined> {
  let highest: number | undefined
  for (const layer of layers) if (!layer.isLocal) highest = higher(highest, await generationIn(layer))
  return highest
}

async function generationIn(layer: CacheLayer): Promise<number | undefined> {
  const value = ((await layer.get(GENERATION_KEY))?.value as TagState | undefined)?.hard
  return Number.isInteger(value) ? value : undefined
}

function higher(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || (b !== undefined && b > a) ? b : a
}

function stateEntry(state: StoredTagState, until?: number): CacheEntry {
  const value: StoredTagState = { hard: state.hard, soft: state.soft }
  if (state.sets) value.sets = state.sets
  if (until !== undefined) value.until = until
  return {
    value,
    createdAt: 0,
    freshUntil: FOREVER,
    swrUntil: FOREVER,
    graceUntil: FOREVER,
  }
}

/** Tells the bus whether the write its message rode on ran (when it did not, the bus publishes it itself). */
async function carried<T>(write: Promise<T>, carriage: BusCarriage): Promise<T> {
  try {
    const result = await write
    carriage.done(true)
    return result
  } catch (error) {
    carriage.done(false)
    throw error
  }
}

import type { EntryHead } from '../layer.ts'

/** When a tag was last invalidated, hard and soft, in stamp time. */
export interface TagState {
  hard: number
  soft: number
}

/** Registry size below which `pruneSometimes` never scans. */
const MIN_PRUNE_SIZE = 256

/** Result of checking an entry against the tag states: hard-invalidated, or fresh until a time. */
export const HARD_INVALIDATED = -1

// Separates a namespace from a tag in a scoped tag name; no printable tag can forge it.
const SCOPE_SEPARATOR = '\u001f'
/** Joins the sorted names of a set invalidation (`mode: 'all'`) into its id. */
export const SET_SEPARATOR = '\u001e'

/** The registry name of `tag` invalidated through namespace `namespace` (`''` for the root). */
export function scopedTag(namespace: string, tag: string): string {
  return namespace === '' ? tag : namespace + SCOPE_SEPARATOR + tag
}

/**
 * Tag invalidation without touching entries: each tag remembers when it was last invalidated, and an
 * entry created before that moment is dead (hard) or stale (soft). An invalidation is O(1) whatever the
 * number of entries, and no per-tag list of keys exists to leak. A state is forgotten once every entry
 * that could predate it has physically expired.
 */
export class TagRegistry {
  readonly #states = new Map<string, TagState>()
  /** Invalidations of entries carrying *all* of several tags (`mode: 'all'`), by their sorted names joined. */
  readonly #sets = new Map<string, TagState & { names: readonly string[] }>()
  /**
   * The last check of each entry object, valid while `#version` is unchanged: a hit of a tagged entry
   * then costs one WeakMap lookup instead of a lookup per tag and enclosing namespace.
   */
  readonly #memo = new WeakMap<EntryHead, { version: number; freshUntil: number }>()
  #version = 0
  /** Size at which `pruneSometimes` next scans: twice the size its last scan left (amortized O(1)). */
  #pruneAt = MIN_PRUNE_SIZE

  get size(): number {
    return this.#states.size + this.#sets.size
  }

  /**
   * Records an invalidation of the entries that carry every one of `names`; like `record`, states only
   * move forward, so a late, repeated or re-read state changes nothing.
   */
  recordSet(names: readonly string[], state: Partial<TagState>): void {
    const sorted = [...names].sort()
    const id = sorted.join(SET_SEPARATOR)
    const existing = this.#sets.get(id)
    const hard = Math.max(existing?.hard ?? 0, state.hard ?? 0)
    const soft = Math.max(existing?.soft ?? 0, state.soft ?? 0)
    if (existing?.hard === hard && existing.soft === soft) return
    this.#version++
    if (existing) {
      existing.hard = hard
      existing.soft = soft
    } else this.#sets.set(id, { names: sorted, hard, soft })
  }

  /**
   * The set invalidations filed under `name`: those whose first name (sorted) it is. Every entry a set
   * applies to carries that name, so a reader that loads the states of an entry's tags finds the sets too.
   */
  setsUnder(name: string): Record<string, TagState> | undefined {
    let found: Record<string, TagState> | undefined
    for (const [id, set] of this.#sets) {
      if (set.names[0] !== name) continue
      found ??= {}
      found[id] = { hard: set.hard, soft: set.soft }
    }
    return found
  }

  get(name: string): TagState | undefined {
    return this.#states.get(name)
  }

  /** Records an invalidation; states only move forward, so a late or repeated message changes nothing. */
  record(name: string, state: Partial<TagState>): void {
    const current = this.#states.get(name)
    const hard = Math.max(current?.hard ?? 0, state.hard ?? 0)
    const soft = Math.max(current?.soft ?? 0, state.soft ?? 0)
    if (current?.hard === hard && current.soft === soft) return
    this.#version++
    if (current) {
      current.hard = hard
      current.soft = soft
    } else this.#states.set(name, { hard, soft })
  }

  /**
   * `HARD_INVALIDATED`, or the time until which the entry stays fresh given soft invalidations
   * (its own `freshUntil` when none applies).
   */
  check(entry: EntryHead): number {
    const tags = entry.tags
    if (tags === undefined || (this.#states.size === 0 && this.#sets.size === 0)) return entry.freshUntil
    const memo = this.#memo.get(entry)
    if (memo !== undefined && memo.version === this.#version) return memo.freshUntil
    const freshUntil = this.#checkAll(entry, tags)
    if (memo !== undefined) {
      memo.version = this.#version
      memo.freshUntil = freshUntil
    } else if (freshUntil !== HARD_INVALIDATED) this.#memo.set(entry, { version: this.#version, freshUntil })
    // A dead entry gets no memo: it is removed or overwritten rather than read again, its next check
    // stops at the first tag that killed it, and a new WeakMap key costs far more than that check (it
    // grows the table the collector walks; the first read after an invalidation decodes one such head).
    return freshUntil
  }

  #checkAll(entry: EntryHead, tags: readonly string[]): number {
    let freshUntil = entry.freshUntil
    // Most stacks never invalidate by a set of tags: no iterator for an empty map.
    if (this.#sets.size > 0) {
      freshUntil = this.#checkSets(entry, freshUntil)
      if (freshUntil === HARD_INVALIDATED) return HARD_INVALIDATED
    }
    const namespace = entry.namespace
    for (let i = 0; i < tags.length; i++) {
      const tag = tags[i]!
      freshUntil = this.#apply(this.#states.get(tag), entry.createdAt, freshUntil)
      if (freshUntil === HARD_INVALIDATED) return HARD_INVALIDATED
      if (namespace) {
        // Every enclosing namespace ('a:' and 'a:b:' for 'a:b:') may have invalidated the tag.
        for (let end = namespace.indexOf(':'); end !== -1; end = namespace.indexOf(':', end + 1)) {
          const state = this.#states.get(namespace.slice(0, end + 1) + SCOPE_SEPARATOR + tag)
          freshUntil = this.#apply(state, entry.createdAt, freshUntil)
          if (freshUntil === HARD_INVALIDATED) return HARD_INVALIDATED
        }
      }
    }
    return freshUntil
  }

  #checkSets(entry: EntryHead, freshUntil: number): number {
    for (const set of this.#sets.values()) {
      if (set.names.every((name) => carries(entry, name))) {
        freshUntil = this.#apply(set, entry.createdAt, freshUntil)
        if (freshUntil === HARD_INVALIDATED) return HARD_INVALIDATED
      }
    }
    return freshUntil
  }

  #apply(state: TagState | undefined, createdAt: number, freshUntil: number): number {
    if (state === undefined) return freshUntil
    if (createdAt <= state.hard) return HARD_INVALIDATED
    // A soft invalidation makes the entry stale from the millisecond it happened on.
    if (createdAt <= state.soft && state.soft < freshUntil) return Math.floor(state.soft)
    return freshUntil
  }

  /**
   * `prune`, but only once the registry has doubled since the last one: an invalidation never scans
   * every state (O(1) amortized), and the registry stays within twice what it must remember.
   */
  pruneSometimes(now: number, maxLifetime: number): void {
    if (this.size < this.#pruneAt) return
    this.prune(now, maxLifetime)
    this.#pruneAt = Math.max(MIN_PRUNE_SIZE, this.size * 2)
  }

  /** Drops states older than `now - maxLifetime`: no entry that predates them can still exist. */
  prune(now: number, maxLifetime: number): void {
    if (!Number.isFinite(maxLifetime)) return
    for (const [name, state] of this.#states) {
      if (Math.max(state.hard, state.soft) + maxLifetime < now) this.#states.delete(name)
    }
    for (const [id, set] of this.#sets) {
      if (Math.max(set.hard, set.soft) + maxLifetime < now) this.#sets.delete(id)
    }
  }

  clear(): void {
    this.#version++
    this.#states.clear()
    this.#sets.clear()
  }
}

/** Whether an entry carries a (possibly namespace-scoped) tag name. */
function carries(entry: EntryHead, name: string): boolean {
  const cut = name.indexOf(SCOPE_SEPARATOR)
  const tag = cut === -1 ? name : name.slice(cut + 1)
  if (!entry.tags?.includes(tag)) return false
  return cut === -1 || (entry.namespace ?? '').startsWith(name.slice(0, cut))
}

/** Every registry name that can invalidate `entry`: each tag, and each tag scoped to an enclosing namespace. */
export function scopedNamesOf(entry: EntryHead): string[] {
  const names = [...(entry.tags ?? [])]
  const namespace = entry.namespace
  if (namespace) {
    for (const tag of entry.tags ?? []) {
      for (let end = namespace.indexOf(':'); end !== -1; end = namespace.indexOf(':', end + 1)) {
        names.push(namespace.slice(0, end + 1) + SCOPE_SEPARATOR + tag)
      }
    }
  }
  return names
}

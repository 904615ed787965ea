import type { CacheEntry } from '../layer.ts'

/** Keys whose last shared-layer slide is remembered; past this the oldest are forgotten. */
const MAX_REMEMBERED = 10_000

/** What a sliding hit must do: the moved entry, and whether shared layers get it this time. */
export interface Slide {
  entry: CacheEntry
  shared: boolean
}

/**
 * `slidingTtl` without a shared-layer write per hit. Each hit moves the entry's fresh period to
 * `now + ttl` in the local layer (a cheap in-process set). A shared layer (Redis) is written only
 * when the copy it holds has less than half of the ttl left, so a key hit a thousand times a second
 * costs about two Redis writes per ttl per instance, and other instances still find a fresh copy.
 */
export class SlidingTtl {
  /** Fresh-until of the copy this instance last wrote to the shared layers, per key. */
  readonly #sharedUntil = new Map<string, number>()

  /**
   * The slide for a hit at `now`, or `undefined` when nothing moves. `by` is the entry's own sliding
   * ttl, or the read's `ttl` when the read asked for `slidingTtl`; `fromShared` says the hit came from
   * a shared layer, which then tells how fresh the shared copy is.
   */
  onHit(key: string, entry: CacheEntry, by: number, now: number, fromShared: boolean): Slide | undefined {
    const target = now + by
    if (by <= 0 || target <= entry.freshUntil) return undefined
    const moved = shiftFresh(entry, target)
    if (moved.sliding === undefined) moved.sliding = by
    const known = fromShared ? entry.freshUntil : this.#sharedUntil.get(key)
    const shared = known === undefined || known - now < by / 2
    if (shared) this.#remember(key, target)
    else if (fromShared) this.#remember(key, entry.freshUntil)
    return { entry: moved, shared }
  }

  /** Forgets a key (deleted or rewritten). */
  forget(key: string): void {
    this.#sharedUntil.delete(key)
  }

  #remember(key: string, until: number): void {
    this.#sharedUntil.delete(key)
    this.#sharedUntil.set(key, until)
    if (this.#sharedUntil.size > MAX_REMEMBERED) {
      this.#sharedUntil.delete(this.#sharedUntil.keys().next().value!)
    }
  }
}

/** The entry with its fresh period ending at `freshUntil`; the stale windows move with it. */
export function shiftFresh(entry: CacheEntry, freshUntil: number): CacheEntry {
  const shift = freshUntil - entry.freshUntil
  return {
    ...entry,
    freshUntil,
    swrUntil: entry.swrUntil + shift,
    graceUntil: entry.graceUntil + shift,
  }
}

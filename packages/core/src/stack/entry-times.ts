import { type CacheEntry, FOREVER } from '../layer.ts'

/** When the entry stops being servable at all. */
export function physicalEnd(entry: CacheEntry): number {
  return Math.max(entry.swrUntil, entry.graceUntil)
}

/** Remaining physical lifetime in ms, `undefined` for forever. */
export function remainingLifetime(entry: CacheEntry, now: number): number | undefined {
  const end = physicalEnd(entry)
  return end >= FOREVER ? undefined : Math.ceil(end - now)
}

/** The entry with its fresh period cut to `freshUntil`; the stale windows keep their lengths. */
export function capFresh(entry: CacheEntry, freshUntil: number): CacheEntry {
  if (freshUntil >= entry.freshUntil) return entry
  const shift = entry.freshUntil - freshUntil
  return {
    ...entry,
    freshUntil,
    swrUntil: Math.max(freshUntil, entry.swrUntil - shift),
    graceUntil: Math.max(freshUntil, entry.graceUntil - shift),
  }
}

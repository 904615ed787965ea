// When a read may be answered by the synchronous L1 fast path in `CacheStack.get`: one definition for
// the stack's defaults (decided once, in the engine) and for a call's own options.

import { READ_OPTION_NAMES } from './options.ts'

/** The read options that make a fresh hit do more than return the value. */
export interface FastPathBlockers {
  forceFresh?: boolean | undefined
  slidingTtl?: boolean | undefined
  refreshAhead?: unknown
  adaptiveTtl?: unknown
}

/** Options that must see every hit (sliding, adaptive) or may refresh on one take the full path. */
export function needsFullPath(options: FastPathBlockers): boolean {
  return (
    options.forceFresh === true ||
    options.slidingTtl === true ||
    options.refreshAhead !== undefined ||
    options.adaptiveTtl !== undefined
  )
}

/** Read options a fresh L1 hit can ignore; any other key (unknown ones included) takes the full path. */
const FAST_PATH_NAMES: ReadonlySet<string> = new Set(
  [...READ_OPTION_NAMES].filter((name) => name !== 'refreshAhead' && name !== 'adaptiveTtl'),
)

/** Whether a call's own options allow the fast path (the full path refuses unknown keys, so they take it). */
export function fastPathAllowed(options: FastPathBlockers): boolean {
  for (const name in options) if (!FAST_PATH_NAMES.has(name)) return false
  return !needsFullPath(options)
}

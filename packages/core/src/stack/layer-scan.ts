import type { CacheLayer } from '../layer.ts'
import { SYSTEM_PREFIX } from './shared-state.ts'

/** Deletes the keys of one layer under `scanPrefix` that match `pattern`, in batches; the stack's own bookkeeping keys are kept. */
export async function deleteMatchingIn(
  layer: CacheLayer,
  scanPrefix: string,
  pattern: RegExp,
): Promise<number> {
  let removed = 0
  let batch: string[] = []
  for await (const key of layer.keys(scanPrefix)) {
    if (!key.startsWith(SYSTEM_PREFIX) && pattern.test(key)) batch.push(key)
    if (batch.length >= 500) {
      removed += await layer.deleteMany(batch)
      batch = []
    }
  }
  if (batch.length > 0) removed += await layer.deleteMany(batch)
  return removed
}

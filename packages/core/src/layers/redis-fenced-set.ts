// The single-flight fence applied by RedisLayer: check the lease token and write the entry in one script
// wherever the lease is visible from the layer's client, with the lease's own check as the fallback.

import type { WriteFence } from '../layer.ts'

// KEYS: entry, lease. ARGV: token, payload, PX ('' = no expiry). The fence check and the write in one step.
const FENCED_SET = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
if ARGV[3] == '' then redis.call('SET', KEYS[1], ARGV[2]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1`

/** What `fencedSet` needs from the layer. */
export interface FencedSetTarget {
  /** The layer's client. */
  readonly client: {
    eval(script: string, keys: number, ...args: (string | number | Buffer)[]): Promise<unknown>
  }
  /** False when one script cannot read the lease key next to the entry (another Cluster slot). */
  readonly sameSlot: boolean
  /** Lease clients found to talk to another Redis than the layer's; filled here. */
  readonly foreignOwners: WeakSet<object>
  /** Runs a command under the layer's timeout and connection watch. */
  run<T>(send: () => Promise<T>): Promise<T>
  /** The layer's plain write. */
  set(): Promise<void>
}

/**
 * Writes `payload` under `fullKey` only while `fence` holds. When the script does not find the token on
 * another client than the lease's, the lease's own client is asked: still held means the lease lives
 * on another Redis (remembered; those writes fall back to a plain set after the lease's own check).
 */
export async function fencedSet(
  target: FencedSetTarget,
  fullKey: string,
  payload: string | Buffer,
  px: number | undefined,
  fence: WriteFence,
): Promise<boolean> {
  const owner = fence.owner
  const otherClient = owner !== target.client
  const known = typeof owner === 'object' && owner !== null && target.foreignOwners.has(owner)
  if (!target.sameSlot || (otherClient && (!fence.held || known))) {
    await target.set()
    return true
  }
  const written = await target.run(() =>
    target.client.eval(FENCED_SET, 2, fullKey, fence.leaseKey, fence.token, payload, px ?? ''),
  )
  if (written === 1) return true
  let held: boolean
  try {
    // Also counts the refusal in the single-flight's stats when the lease was lost.
    held = fence.held ? await fence.held() : false
  } catch {
    // The lease's Redis does not answer: not knowing, write nothing (the holder's callers have the value).
    return false
  }
  // The token is this holder's own and unique: still held, yet unseen by the script, is another Redis.
  if (!held || !otherClient || typeof owner !== 'object' || owner === null) return false
  target.foreignOwners.add(owner)
  await target.set()
  return true
}

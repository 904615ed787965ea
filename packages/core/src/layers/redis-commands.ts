// Multi-key plumbing shared by RedisLayer: Redis Cluster refuses a multi-key command whose keys live in
// different hash slots (CROSSSLOT), even when one node serves them all, so every multi-key command is
// split per slot and the per-slot commands are pipelined per node.
import type { ChainableCommander, Cluster, Redis } from 'ioredis'
import { ValidationError } from '../errors.ts'
import { groupBySlot } from '../internal/key-slot.ts'

/** Keys fetched per `SCAN` call. */
export const SCAN_COUNT = 500

/** True when `client` is an ioredis `Cluster`. */
export function isCluster(client: Redis | Cluster): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true
}

/**
 * True when two ioredis clients publish to the same pub/sub: the same client, or two single-server
 * clients with the same address and user (pub/sub ignores the database number). Clusters and Sentinel
 * setups only match themselves.
 */
export function sameRedisServer(a: unknown, b: unknown): boolean {
  if (a === b) return true
  const single = (client: unknown) => {
    const c = client as { options?: Record<string, unknown>; isCluster?: boolean } | null
    return c?.isCluster || c?.options?.sentinels ? undefined : c?.options
  }
  const one = single(a)
  const two = single(b)
  return !!one && !!two && ['host', 'port', 'path', 'username', 'password'].every((k) => one[k] === two[k])
}

/** One per-slot command's reply and the positions (in the caller's key list) it covered. */
export interface SlotReply {
  positions: number[]
  reply: unknown
}

/**
 * Calls `add(pipeline, positions)` once per hash slot of `keys`, with the pipeline of the node serving
 * that slot, runs the pipelines in parallel and answers every reply; the first error rejects.
 */
export async function perSlot(
  cluster: Cluster,
  keys: readonly string[],
  add: (pipeline: ChainableCommander, positions: number[]) => void,
): Promise<SlotReply[]> {
  const batches = new Map<string, { pipeline: ChainableCommander; groups: number[][] }>()
  for (const [slot, positions] of groupBySlot(keys)) {
    // ioredis accepts a cluster pipeline when all its slots share one set of nodes (master + replicas).
    const node = cluster.slots[slot]?.join(';') ?? `slot:${slot}`
    let batch = batches.get(node)
    if (!batch) batches.set(node, (batch = { pipeline: cluster.pipeline(), groups: [] }))
    add(batch.pipeline, positions)
    batch.groups.push(positions)
  }
  const replies = await Promise.all(
    [...batches.values()].map(async ({ pipeline, groups }) => {
      const results = await execPipeline(pipeline)
      return groups.map((positions, i) => ({ positions, reply: results[i] }))
    }),
  )
  return replies.flat()
}

/** Runs a pipeline and answers its replies; the first failed command rejects. */
export async function execPipeline(pipeline: ChainableCommander): Promise<unknown[]> {
  const results = (await pipeline.exec()) ?? []
  return results.map(([error, reply]) => {
    if (error) throw error
    return reply
  })
}

/** Unlinks keys that one node's `SCAN` returned; on a cluster node, one `UNLINK` per slot. */
export async function unlinkOnNode(node: Redis, keys: string[], cluster: boolean): Promise<void> {
  if (!cluster) {
    await node.unlink(...keys)
    return
  }
  const pipeline = node.pipeline()
  for (const positions of groupBySlot(keys).values()) pipeline.unlink(...positions.map((i) => keys[i]!))
  await execPipeline(pipeline)
}

/** Escapes `*`, `?`, `[`, `]` and `\` so that a literal prefix can sit in a `SCAN MATCH` pattern. */
export function escapeGlob(literal: string): string {
  return literal.replace(/[*?[\]\\]/g, '\\$&')
}

/** The `PX` argument for a physical TTL: none for "forever", else whole milliseconds, at least 1. */
export function toPx(ttl: number | undefined): number | undefined {
  if (ttl === undefined || ttl === Number.POSITIVE_INFINITY) return undefined
  if (typeof ttl !== 'number' || Number.isNaN(ttl)) {
    throw new ValidationError(`"ttl" must be a number of milliseconds; got ${String(ttl)}`, 'ttl')
  }
  return Math.max(1, Math.ceil(ttl))
}

/** `MGET` of many keys (per slot on a Cluster), as text or as bytes; payloads in key order. */
export async function mgetPayloads(
  client: Redis | Cluster,
  cluster: Cluster | undefined,
  bytes: boolean,
  fullKeys: string[],
): Promise<(string | Buffer | null)[]> {
  if (!cluster) {
    return bytes ? client.mgetBuffer(...fullKeys) : client.mget(...fullKeys)
  }
  const payloads = new Array<string | Buffer | null>(fullKeys.length)
  const replies = await perSlot(cluster, fullKeys, (pipeline, positions) => {
    const slotKeys = positions.map((i) => fullKeys[i]!)
    if (bytes) pipeline.mgetBuffer(...slotKeys)
    else pipeline.mget(...slotKeys)
  })
  for (const { positions, reply } of replies) {
    const values = reply as (string | Buffer | null)[]
    for (let j = 0; j < positions.length; j++) payloads[positions[j]!] = values[j] ?? null
  }
  return payloads
}

/** The keys of one node matching `pattern`, batch by batch, with `SCAN` (never `KEYS`); `run` bounds each call. */
export async function* scanKeys(
  node: Redis,
  pattern: string,
  run: <T>(send: () => Promise<T>) => Promise<T>,
): AsyncGenerator<string[]> {
  let cursor = '0'
  do {
    const [next, keys] = await run(() => node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT))
    cursor = next
    if (keys.length > 0) yield keys
  } while (cursor !== '0')
}

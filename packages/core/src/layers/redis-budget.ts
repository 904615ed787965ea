// The soft memory budget of a RedisLayer sharing its Redis with others: cache entries written through the
// layer are counted (payload + key bytes) and, past the budget, the least recently used are removed.
// Three bookkeeping keys share one hash slot: a sorted set of last-use times, a hash of sizes and a
// running total. System keys (`__cs:` tag states, generation, locks, rate-limit windows) never enter it.

import type { Cluster, Redis } from 'ioredis'
import { RedisScript, runScript } from '../coordination/redis-scripts.ts'
import { perSlot } from './redis-commands.ts'

/** Keys under this prefix (relative to the layer prefix) are the stack's own: never counted or evicted. */
export const BUDGET_EXEMPT_PREFIX = '__cs:'
// A key's last-use time is sent at most this often per instance: a hot key read over and over costs one
// ZADD a second, not one per read. Enough precision for an LRU over seconds-to-hours of idleness.
const TOUCH_INTERVAL = 1_000
// Keys whose last touch this instance remembers; forgotten all at once past this (then touched again).
const MAX_REMEMBERED = 10_000
// Removals one write may trigger: a script must stay short even when the budget was lowered a lot.
const MAX_EVICTIONS = 500

/**
 * Lua recording `member` as just used with `size` bytes, then removing least recently used members until
 * the total fits (never `member` itself); leaves the removed members in `removed`. Written once for the
 * two scripts below, which hold the same values in different KEYS/ARGV slots.
 */
function accountLua(
  lru: string,
  sizes: string,
  total: string,
  now: string,
  member: string,
  size: string,
  budget: string,
): string {
  return `
local old = tonumber(redis.call('HGET', ${sizes}, ${member}) or '0')
redis.call('HSET', ${sizes}, ${member}, ${size})
local total = redis.call('INCRBY', ${total}, tonumber(${size}) - old)
redis.call('ZADD', ${lru}, ${now}, ${member})
local removed = {}
while total > tonumber(${budget}) and #removed < ${MAX_EVICTIONS} do
  -- Two candidates: the entry just written may tie for the oldest time and must be skipped, not stop us.
  local candidates = redis.call('ZRANGE', ${lru}, 0, 1)
  local oldest = candidates[1]
  if oldest == ${member} then oldest = candidates[2] end
  if oldest == nil then break end
  redis.call('ZREM', ${lru}, oldest)
  total = redis.call('DECRBY', ${total}, tonumber(redis.call('HGET', ${sizes}, oldest) or '0'))
  redis.call('HDEL', ${sizes}, oldest)
  removed[#removed + 1] = oldest
end`
}

// On a single server: the entry's own SET, the bookkeeping and the removals in one script.
// KEYS: entry, lru, sizes, total. ARGV: payload, px ('' = none), now, member, size, budget, layer prefix.
const WRITE = new RedisScript(`
if ARGV[2] == '' then redis.call('SET', KEYS[1], ARGV[1]) else redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
${accountLua('KEYS[2]', 'KEYS[3]', 'KEYS[4]', 'ARGV[3]', 'ARGV[4]', 'ARGV[5]', 'ARGV[6]')}
for _, member in ipairs(removed) do redis.call('UNLINK', ARGV[7] .. member) end
return #removed`)
// On a Cluster the entry lives in another slot: the bookkeeping alone, answering the members to unlink.
// KEYS: lru, sizes, total. ARGV: now, member, size, budget.
const ACCOUNT_ONLY =
  new RedisScript(`${accountLua('KEYS[1]', 'KEYS[2]', 'KEYS[3]', 'ARGV[1]', 'ARGV[2]', 'ARGV[3]', 'ARGV[4]')}
return removed`)
// KEYS: lru, sizes, total. ARGV: members removed by the layer: their bytes leave the total.
const FORGET = new RedisScript(`
for _, member in ipairs(ARGV) do
  local size = redis.call('HGET', KEYS[2], member)
  if size then
    redis.call('HDEL', KEYS[2], member)
    redis.call('ZREM', KEYS[1], member)
    redis.call('DECRBY', KEYS[3], tonumber(size))
  end
end
return 1`)

/** What the budget needs of its layer. */
export interface BudgetTarget {
  readonly client: Redis | Cluster
  readonly cluster: Cluster | undefined
  readonly prefix: string
  /** Runs a command under the layer's timeout and connection watch. */
  run<T>(send: () => Promise<T>): Promise<T>
  /** The stack's clock (last-use times), or `Date.now` before the layer joined a stack. */
  now(): number
}

/** Bytes and entries the budget counts (as recorded; entries expired by Redis stay until evicted). */
export interface BudgetUsage {
  bytes: number
  entries: number
}

/** A byte budget over the entries one `RedisLayer` writes, least recently used removed first. */
export class RedisBudget {
  readonly limit: number
  readonly #target: BudgetTarget
  readonly #keys: [lru: string, sizes: string, total: string]
  readonly #touched = new Map<string, number>()

  constructor(target: BudgetTarget, limit: number) {
    this.#target = target
    this.limit = limit
    // One hash tag for the three, so one script reads them all on a Cluster too.
    const base = `${target.prefix}{${target.prefix}__cs:budget}`
    this.#keys = [`${base}:lru`, `${base}:sizes`, `${base}:total`]
  }

  /** True when `key` is counted: every key but the stack's own bookkeeping. */
  counts(key: string): boolean {
    return !key.startsWith(BUDGET_EXEMPT_PREFIX)
  }

  /** Writes one entry and makes room: one script on a single server; SET, then bookkeeping, on a Cluster. */
  async write(key: string, payload: string | Buffer, px: number | undefined): Promise<void> {
    const { client, cluster, prefix } = this.#target
    const size = sizeOf(key, payload)
    if (cluster) {
      const full = prefix + key
      await this.#target.run(() =>
        px === undefined ? client.set(full, payload) : client.set(full, payload, 'PX', px),
      )
      return this.record(key, payload)
    }
    const now = this.#target.now()
    this.#remember(key, now)
    const args = [payload, px ?? '', now, key, size, this.limit, prefix]
    await this.#target.run(() => runScript(client, WRITE, [prefix + key, ...this.#keys], args))
  }

  /** Counts an entry written by other means (a fenced write) and removes what no longer fits. */
  async record(key: string, payload: string | Buffer): Promise<void> {
    const { client, cluster, prefix } = this.#target
    const now = this.#target.now()
    this.#remember(key, now)
    const args = [now, key, sizeOf(key, payload), this.limit]
    const removed = (await this.#target.run(() =>
      runScript(client, ACCOUNT_ONLY, this.#keys, args),
    )) as string[]
    if (removed.length === 0) return
    const fullKeys = removed.map((member) => prefix + member)
    await this.#target.run(async () => {
      if (!cluster) await client.unlink(...fullKeys)
      else await perSlot(cluster, fullKeys, (pipeline, at) => pipeline.unlink(...at.map((i) => fullKeys[i]!)))
    })
  }

  /** Marks `key` as just used (sent behind the read, not awaited; at most once a second per key and instance). */
  touch(key: string): void {
    const now = this.#target.now()
    const last = this.#touched.get(key)
    if (last !== undefined && now >= last && now - last < TOUCH_INTERVAL) return
    this.#remember(key, now)
    const { client } = this.#target
    this.#target.run(() => client.zadd(this.#keys[0], 'XX', now, key)).catch(() => {})
  }

  #remember(key: string, now: number): void {
    if (this.#touched.size >= MAX_REMEMBERED) this.#touched.clear()
    this.#touched.set(key, now)
  }

  /** Takes removed keys out of the count. */
  async forget(keys: readonly string[]): Promise<void> {
    const counted = keys.filter((key) => this.counts(key))
    if (counted.length === 0) return
    await this.#target.run(() => runScript(this.#target.client, FORGET, this.#keys, counted))
  }

  /** What the budget counts now. */
  async usage(): Promise<BudgetUsage> {
    const { client } = this.#target
    const [total, entries] = await this.#target.run(() =>
      Promise.all([client.get(this.#keys[2]), client.zcard(this.#keys[0])]),
    )
    return { bytes: Number(total ?? 0), entries }
  }
}

/** What an entry counts for: its payload and key bytes (not Redis's own per-key overhead). */
function sizeOf(key: string, payload: string | Buffer): number {
  return (typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length) + Buffer.byteLength(key)
}

// Locks and sliding windows on the stack's Redis layer: a lock is one key holding its owner (SET NX PX),
// a window one sorted set of request times; every check-and-change is a single script, so two instances
// can never both see room or both see their own token.

import { randomUUID } from 'node:crypto'
import { LayerError } from '../errors.ts'
import { ConnectionWatch } from '../layers/redis-connection.ts'
import type { RedisLayer } from '../layers/redis-layer.ts'
import { RedisScript, runScript } from './redis-scripts.ts'
import { type CoordinationStore, LOCK_PREFIX, RATE_PREFIX, type WindowHit } from './store.ts'

// KEYS: lock. ARGV: owner. Compare-and-delete: only the owner's token is removed.
const RELEASE = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)
// KEYS: lock. ARGV: owner, ttl ms. Compare-and-pexpire.
const EXTEND = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`)
// KEYS: window. ARGV: now, window ms, limit, member. A sliding log: times older than the window are
// dropped, the request is added only when fewer than `limit` remain. Answers {allowed, count, oldest}.
const HIT = new RedisScript(`
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  count = count + 1
  allowed = 1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
return {allowed, count, oldest or ARGV[1]}`)

/** `CoordinationStore` on the Redis (or Cluster) of a `RedisLayer`, under the layer's key prefix. */
export class RedisCoordination implements CoordinationStore {
  readonly kind = 'redis'
  readonly #layer: RedisLayer
  readonly #watch: ConnectionWatch
  // Members of a window must be unique: two requests in one millisecond are two entries.
  readonly #instance = randomUUID()
  #sequence = 0

  constructor(layer: RedisLayer, closed: AbortSignal) {
    this.#layer = layer
    // The layer reports the client's connection errors; this watch only bounds each call.
    this.#watch = new ConnectionWatch(layer.client, layer.commandTimeout, () => {})
    closed.addEventListener('abort', () => this.#watch.dispose(), { once: true })
  }

  async acquire(key: string, owner: string, ttl: number): Promise<boolean> {
    const fullKey = this.#layer.storageKey(LOCK_PREFIX + key)
    const reply = await this.#run('lock', () => this.#layer.client.set(fullKey, owner, 'PX', ttl, 'NX'))
    return reply === 'OK'
  }

  async release(key: string, owner: string): Promise<boolean> {
    return (await this.#script('unlock', RELEASE, LOCK_PREFIX + key, [owner])) === 1
  }

  async extend(key: string, owner: string, ttl: number): Promise<boolean> {
    return (await this.#script('extendLock', EXTEND, LOCK_PREFIX + key, [owner, ttl])) === 1
  }

  async holds(key: string, owner: string): Promise<boolean> {
    const fullKey = this.#layer.storageKey(LOCK_PREFIX + key)
    return (await this.#run('lockExists', () => this.#layer.client.get(fullKey))) === owner
  }

  async hit(key: string, limit: number, window: number, now: number): Promise<WindowHit> {
    const member = `${now}:${this.#instance}:${++this.#sequence}`
    const [allowed, count, oldest] = (await this.#script('rateLimit', HIT, RATE_PREFIX + key, [
      now,
      window,
      limit,
      member,
    ])) as [number, number, string]
    return { allowed: allowed === 1, count, oldest: Number(oldest) }
  }

  #script(operation: string, script: RedisScript, key: string, args: (string | number)[]): Promise<unknown> {
    const fullKey = this.#layer.storageKey(key)
    return this.#run(operation, () => runScript(this.#layer.client, script, [fullKey], args))
  }

  async #run<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await this.#watch.run(send)
    } catch (error) {
      throw new LayerError(this.#layer.name, operation, error)
    }
  }
}

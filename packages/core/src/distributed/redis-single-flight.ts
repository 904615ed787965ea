import { randomUUID } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import { ValidationError } from '../errors.ts'
import { slotTagOf } from '../internal/key-slot.ts'
import { assertKnownOptions, optionNames } from '../internal/known-options.ts'
import { type Duration, parseDuration } from '../internal/units.ts'
import { ConnectionWatch, DEFAULT_COMMAND_TIMEOUT } from '../layers/redis-connection.ts'
import type { FlightLease, SharedWork, SingleFlight } from '../stack/single-flight.ts'
import { Subscription } from './subscription.ts'

/** Options of `RedisSingleFlight`. */
export interface RedisSingleFlightOptions {
  /** The ioredis `Redis` or `Cluster` holding the leases; a subscriber is opened from it. Never quit by us. */
  client: Redis | Cluster
  /** How long a holder owns a key unless it renews (it renews every third of it while the factory runs). @default '30s' */
  lease?: Duration | undefined
  /** Prefix of the lease keys and of the notification channel; one per cache sharing the Redis. @default 'cachestack:flight:' */
  prefix?: string | undefined
}

const SINGLE_FLIGHT_OPTION_NAMES = optionNames<RedisSingleFlightOptions>({
  client: true,
  lease: true,
  prefix: true,
})

/** Counters of one `RedisSingleFlight`, for tests and health pages. */
export interface SingleFlightStats {
  /** Leases taken: factory runs guarded by this instance. */
  acquired: number
  /** Times this instance found the key held and waited. */
  waited: number
  /** Waits ended by a notification from the holder. */
  notified: number
  /** Waits ended by the fallback check at lease expiry (a holder that died, a lost notification). */
  expiredChecks: number
  /** Results not written because the lease was lost before the write. */
  fenced: number
  /** Factory runs without a lease because Redis did not answer. */
  unguarded: number
}

/** @default lease of `RedisSingleFlight`. */
export const DEFAULT_LEASE = 30_000
const DEFAULT_PREFIX = 'cachestack:flight:'
// Waiters re-check this long after the lease should have expired, so the check sees it gone.
const EXPIRY_MARGIN = 10

// KEYS: lease, fence counter. Takes the lease with a fencing token `n:owner`, n increasing per key, or
// answers how long the current holder still owns it.
const ACQUIRE = `
local ttl = redis.call('PTTL', KEYS[1])
if ttl ~= -2 then return {0, ttl} end
local n = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
local token = n .. ':' .. ARGV[2]
redis.call('SET', KEYS[1], token, 'PX', ARGV[1])
return {1, token}`
// KEYS: lease. Extends the lease only for the token that holds it: renewal, and the fence before a write.
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`
// KEYS: lease. Gives the lease up (only our own) and tells the waiters in the same round trip.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1`

type Outcome = 'stored' | 'released' | 'expired' | 'reconnected'

/**
 * Distributed stampede protection on Redis: for one key, one instance in the whole cluster runs the
 * factory; the others wait for its pub/sub notification and read what it stored. A holder renews its
 * lease while the factory runs and re-checks it (fencing token, one Lua script) right before writing.
 * If nothing was cached (error, `skip()`), the waiters race for the lease again: exactly one wins.
 */
export class RedisSingleFlight implements SingleFlight {
  readonly #client: Redis | Cluster
  readonly #lease: number
  readonly #prefix: string
  readonly #channel: string
  readonly #owner = randomUUID()
  readonly #waiters = new Map<string, Set<(outcome: Outcome) => void>>()
  readonly #stats: SingleFlightStats = {
    acquired: 0,
    waited: 0,
    notified: 0,
    expiredChecks: 0,
    fenced: 0,
    unguarded: 0,
  }
  #subscription: Subscription | undefined
  #subscribed: Promise<void> | undefined
  /** Bounds every script call and fails it at once while Redis is known to be away. */
  readonly #watch: ConnectionWatch

  constructor(options: RedisSingleFlightOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ValidationError('RedisSingleFlight needs options: { client }', 'options')
    }
    assertKnownOptions(options, SINGLE_FLIGHT_OPTION_NAMES, 'an option of new RedisSingleFlight()')
    const { client, lease = DEFAULT_LEASE, prefix = DEFAULT_PREFIX } = options
    if (!client || typeof client.eval !== 'function' || typeof client.duplicate !== 'function') {
      throw new ValidationError('"client" must be an ioredis Redis or Cluster', 'client')
    }
    const ms = parseDuration(lease, 'lease')
    if (ms < 30) throw new ValidationError('"lease" must be at least 30ms', 'lease')
    if (typeof prefix !== 'string') throw new ValidationError('"prefix" must be a string', 'prefix')
    this.#client = client
    this.#lease = Math.round(ms)
    this.#prefix = prefix
    this.#channel = `${prefix}landed`
    // Errors of a given client are the caller's (its layer or bus reports them); this only bounds waits.
    this.#watch = new ConnectionWatch(client, DEFAULT_COMMAND_TIMEOUT, () => {})
    // Subscribe now rather than on the first miss: a cold burst should not wait for a connection.
    this.#subscribe().catch(() => {})
  }

  /** Counters since construction. */
  get stats(): SingleFlightStats {
    return { ...this.#stats }
  }

  async run<T>(key: string, work: SharedWork<T>): Promise<T> {
    try {
      await this.#subscribe()
    } catch {
      // Not subscribed in time: waiters would not hear the holder, so run unguarded until it is.
      if (!this.#subscription?.connected) return this.#unguarded(work)
    }
    for (;;) {
      work.signal.throwIfAborted()
      // Listen before asking: a notification sent between the two cannot be missed.
      const wake = this.#listen(key)
      let attempt: [0, number] | [1, string]
      try {
        attempt = (await this.#eval(
          ACQUIRE,
          2,
          ...this.#keys(key, work.storageKey),
          this.#lease,
          this.#owner,
          this.#fenceLife(),
        )) as [0, number] | [1, string]
      } catch {
        wake.cancel()
        return this.#unguarded(work)
      }
      if (attempt[0] === 1) {
        wake.cancel()
        return this.#hold(key, attempt[1], work)
      }
      this.#stats.waited++
      const remaining = attempt[1] > 0 ? Math.min(attempt[1], this.#lease) : this.#lease
      const outcome = await wake.wait(remaining + EXPIRY_MARGIN, work.signal)
      if (outcome === 'expired') this.#stats.expiredChecks++
      else this.#stats.notified++
      if (outcome !== 'released') {
        const found = await work.landed()
        if (found) return found.value
      }
    }
  }

  async dispose(): Promise<void> {
    for (const waiters of this.#waiters.values()) for (const wake of waiters) wake('reconnected')
    this.#waiters.clear()
    const subscription = this.#subscription
    this.#subscription = undefined
    this.#subscribed = undefined
    this.#watch.dispose()
    await subscription?.close()
  }

  async #hold<T>(key: string, token: string, work: SharedWork<T>): Promise<T> {
    this.#stats.acquired++
    const [leaseKey] = this.#keys(key, work.storageKey)
    let stored = false
    const held = async (): Promise<boolean> => {
      const still = (await this.#eval(RENEW, 1, leaseKey, token, this.#lease)) === 1
      if (!still) this.#stats.fenced++
      return still
    }
    const lease: FlightLease = {
      // RedisLayer checks this token again in the script that writes the value (no gap to stall in).
      fence: {
        owner: this.#client,
        leaseKey,
        token,
        held: async () => {
          stored = await held()
          return stored
        },
      },
      confirm: async () => {
        try {
          stored = await held()
          return stored
        } catch {
          // Redis does not answer: no one else can take the lease through it either, so write as
          // a cache without single-flight would (the shared-layer write fails the same way).
          stored = true
          return true
        }
      },
    }
    const renewal = setInterval(() => {
      this.#eval(RENEW, 1, leaseKey, token, this.#lease).catch(() => {})
    }, this.#lease / 3)
    renewal.unref()
    try {
      // Another instance may have landed the value between our miss and our lease.
      const found = await work.landed()
      if (found) {
        stored = true
        return found.value
      }
      return await work.compute(lease)
    } finally {
      clearInterval(renewal)
      const message = `${stored ? 's' : 'r'}:${key}`
      await this.#eval(RELEASE, 1, leaseKey, token, this.#channel, message).catch(() => {})
    }
  }

  #eval(script: string, keys: number, ...args: (string | number)[]): Promise<unknown> {
    return this.#watch.run(() => this.#client.eval(script, keys, ...args))
  }

  #unguarded<T>(work: SharedWork<T>): Promise<T> {
    this.#stats.unguarded++
    return work.compute({ confirm: async () => true })
  }

  /**
   * The lease key and the fence counter share a hash tag, so one script can touch both on a Cluster;
   * the tag is that of the key the shared layer stores the value under (else of the cache key), so the
   * layer's fenced write can read the lease in the same script: `<prefix>{<stored key>}:lease`, or
   * `<prefix>{<its tag>}:<stored key>:lease` when that key has a tag or cannot be one.
   */
  #keys(key: string, storageKey: string | undefined): [string, string] {
    const stored = storageKey ?? key
    const { tag, whole } = slotTagOf(stored)
    const base = whole ? `${this.#prefix}${tag}` : `${this.#prefix}${tag}:${stored}`
    return [`${base}:lease`, `${base}:fence`]
  }

  /** The fence counter outlives any lease that could still be checked against it. */
  #fenceLife(): number {
    return Math.max(this.#lease * 10, 60_000)
  }

  #subscribe(): Promise<void> {
    if (this.#subscribed) return this.#subscribed
    const subscription = new Subscription(this.#client, this.#channel, {
      message: (payload) => {
        const key = payload.slice(2)
        const waiters = this.#waiters.get(key)
        if (!waiters) return
        const outcome: Outcome = payload.startsWith('s:') ? 'stored' : 'released'
        for (const wake of [...waiters]) wake(outcome)
      },
      // Notifications sent while we were away are lost: every waiter looks again.
      reconnected: () => {
        for (const waiters of this.#waiters.values()) for (const wake of [...waiters]) wake('reconnected')
      },
    })
    this.#subscription = subscription
    // One bounded first attempt; the subscription keeps trying in the background after it.
    this.#subscribed = subscription.start(DEFAULT_COMMAND_TIMEOUT)
    this.#subscribed.catch(() => {})
    return this.#subscribed
  }

  #listen(key: string): { wait(ms: number, signal: AbortSignal): Promise<Outcome>; cancel(): void } {
    let settle: ((outcome: Outcome) => void) | undefined
    const result = new Promise<Outcome>((resolve) => {
      settle = resolve
    })
    let waiters = this.#waiters.get(key)
    if (!waiters) {
      waiters = new Set()
      this.#waiters.set(key, waiters)
    }
    const set = waiters
    const wake = (outcome: Outcome) => settle!(outcome)
    set.add(wake)
    const cancel = () => {
      set.delete(wake)
      if (set.size === 0 && this.#waiters.get(key) === set) this.#waiters.delete(key)
    }
    return {
      cancel,
      wait: async (ms, signal) => {
        const timer = setTimeout(() => wake('expired'), ms)
        const abort = () => settle!('released')
        signal.addEventListener('abort', abort, { once: true })
        try {
          const outcome = await result
          signal.throwIfAborted()
          return outcome
        } finally {
          clearTimeout(timer)
          signal.removeEventListener('abort', abort)
          cancel()
        }
      },
    }
  }
}

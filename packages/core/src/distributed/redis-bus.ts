import { randomUUID } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import { BusError, ValidationError } from '../errors.ts'
import { assertKnownOptions, optionNames } from '../internal/known-options.ts'
import { sameRedisServer } from '../layers/redis-commands.ts'
import { ConnectionWatch, DEFAULT_COMMAND_TIMEOUT } from '../layers/redis-connection.ts'
import type { BusCarriage, BusMessage, CacheBus } from '../stack/bus-message.ts'
import { Subscription } from './subscription.ts'
import { decode, encode, type RejectReason } from './wire.ts'

/** Options of `RedisBus`. */
export interface RedisBusOptions {
  /**
   * The ioredis `Redis` or `Cluster` to publish with; the bus opens its own subscriber from it and never
   * quits it (closing it stays the caller's job). Its connection errors go to the stack's `error` event.
   */
  client: Redis | Cluster
  /** The pub/sub channel every instance of one cache shares. @default 'cachestack:bus' */
  channel?: string | undefined
  /** When set, messages are HMAC-SHA256 signed and unsigned or badly signed ones are ignored. @default undefined */
  signingSecret?: string | Buffer | undefined
  /** Messages kept (de-duplicated) while publishing fails; past it the queue collapses into one "drop your L1". @default 1000 */
  retryQueueSize?: number | undefined
}

const BUS_OPTION_NAMES = optionNames<RedisBusOptions>({
  client: true,
  channel: true,
  signingSecret: true,
  retryQueueSize: true,
})

/** Counters of one bus, for tests and health pages. */
export interface RedisBusStats {
  published: number
  received: number
  /** Payloads ignored, by reason (`own` messages are the normal echo of pub/sub). */
  ignored: Record<RejectReason, number>
  /** Messages waiting to be re-sent. */
  queued: number
  /** Times the retry queue overflowed and was replaced by a clear of every L1. */
  overflows: number
  reconnects: number
  handlerErrors: number
}

/** @default channel of `RedisBus`. */
export const DEFAULT_BUS_CHANNEL = 'cachestack:bus'
const DEFAULT_RETRY_QUEUE_SIZE = 1000
const RETRY_INTERVAL = 1000
// Clears the L1 of every other instance: what a receiver must do when it cannot know what it missed.
const CLEAR_ALL: BusMessage = { v: 1, type: 'clear', namespace: '' }

/**
 * Carries invalidations between instances over Redis pub/sub (a single server or a Cluster). Only keys,
 * tags and prefixes travel. A failed publish waits in a bounded retry queue; a subscriber that lost its
 * connection tells the stack to distrust its L1 once it is back.
 */
export class RedisBus implements CacheBus {
  /** This instance's id: messages carrying it are our own echo and are skipped. */
  readonly instanceId = randomUUID()
  /** The pub/sub channel in use. */
  readonly channel: string
  readonly #client: Redis | Cluster
  readonly #secret: Buffer | undefined
  readonly #queueSize: number
  /** Wire payloads waiting to be re-sent, keyed by payload so a repeated invalidation is queued once. */
  readonly #queue = new Map<string, BusMessage>()
  readonly #stats: RedisBusStats = {
    published: 0,
    received: 0,
    ignored: { own: 0, malformed: 0, version: 0, signature: 0 },
    queued: 0,
    overflows: 0,
    reconnects: 0,
    handlerErrors: 0,
  }
  #subscription: Subscription | undefined
  #started: Promise<void> | undefined
  readonly #watch: ConnectionWatch
  #onError: ((error: unknown) => void) | undefined
  #flushing = false
  #timer: NodeJS.Timeout | undefined
  #disposed = false
  readonly #onReady = () => this.#flush()

  constructor(options: RedisBusOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ValidationError('RedisBus needs options: { client }', 'options')
    }
    assertKnownOptions(options, BUS_OPTION_NAMES, 'an option of new RedisBus()')
    const { client, channel = DEFAULT_BUS_CHANNEL, signingSecret, retryQueueSize } = options
    if (!client || typeof client.publish !== 'function' || typeof client.duplicate !== 'function') {
      throw new ValidationError('"client" must be an ioredis Redis or Cluster', 'client')
    }
    if (typeof channel !== 'string' || channel === '') {
      throw new ValidationError('"channel" must be a non-empty string', 'channel')
    }
    if (
      signingSecret !== undefined &&
      !(typeof signingSecret === 'string' || Buffer.isBuffer(signingSecret))
    ) {
      throw new ValidationError('"signingSecret" must be a string or a Buffer', 'signingSecret')
    }
    if (signingSecret !== undefined && signingSecret.length === 0) {
      throw new ValidationError('"signingSecret" must not be empty', 'signingSecret')
    }
    const size = retryQueueSize ?? DEFAULT_RETRY_QUEUE_SIZE
    if (!Number.isInteger(size) || size < 1) {
      throw new ValidationError('"retryQueueSize" must be a positive integer', 'retryQueueSize')
    }
    this.#client = client
    this.channel = channel
    this.#secret = signingSecret === undefined ? undefined : Buffer.from(signingSecret)
    this.#queueSize = size
    // Bounds each publish, fails it at once while Redis is known to be away, and takes the client's
    // connection errors (ioredis prints them as "Unhandled error event" when nobody listens).
    this.#watch = new ConnectionWatch(client, DEFAULT_COMMAND_TIMEOUT, (error) => this.#onError?.(error))
    client.on('ready', this.#onReady)
  }

  /** Counters since construction. */
  get stats(): RedisBusStats {
    return { ...this.#stats, ignored: { ...this.#stats.ignored }, queued: this.#queue.size }
  }

  /** True while the subscriber connection is up (messages from others arrive). */
  get listening(): boolean {
    return this.#subscription?.connected ?? false
  }

  /**
   * Subscribes; rejects with a `BusError` when Redis does not confirm within 1 s, and goes on trying in
   * the background (a late subscription calls `onReconnect`: messages may have been missed meanwhile).
   */
  async subscribe(
    handler: (message: BusMessage) => void,
    onReconnect: () => void,
    onError?: (error: unknown) => void,
  ): Promise<void> {
    if (this.#subscription)
      throw new ValidationError('A RedisBus serves one stack: create one per stack', 'bus')
    const stats = this.#stats
    this.#subscription = new Subscription(this.#client, this.channel, {
      message: (payload) => {
        const decoded = decode(payload, this.instanceId, this.#secret)
        if ('rejected' in decoded) {
          stats.ignored[decoded.rejected]++
          return
        }
        stats.received++
        try {
          handler(decoded.message)
        } catch {
          // A bad handler must not cost every later invalidation: the subscription goes on.
          stats.handlerErrors++
        }
      },
      reconnected: () => {
        stats.reconnects++
        try {
          onReconnect()
        } catch {
          stats.handlerErrors++
        }
      },
    })
    this.#onError = onError
    this.#started = this.#subscription.start(DEFAULT_COMMAND_TIMEOUT)
    await this.#started
  }

  /** Resolves when the bus is subscribed; rejects with a `BusError` when it is not (Redis away). */
  async ready(): Promise<void> {
    if (!this.#started) throw new BusError('the bus is not subscribed: no stack uses it yet')
    await this.#started.catch(() => {})
    if (!this.listening) {
      throw new BusError(`the bus is not subscribed to "${this.channel}": Redis does not answer`)
    }
  }

  publish(message: BusMessage): void {
    if (this.#disposed) return
    // Once something waits in the queue, later messages queue behind it: the queue flushes in order.
    if (this.#queue.size > 0) {
      this.#enqueue(message)
      this.#flush()
      return
    }
    this.#send(message).catch(() => {
      this.#enqueue(message)
      this.#scheduleRetry()
    })
  }

  carry(client: unknown, message: BusMessage): BusCarriage | undefined {
    // Queued messages go first, in order: a message riding another command would overtake them.
    if (this.#disposed || this.#queue.size > 0 || !sameRedisServer(this.#client, client)) return undefined
    return {
      channel: this.channel,
      payload: encode(message, this.instanceId, this.#secret),
      done: (published) => {
        if (published) this.#stats.published++
        else this.publish(message)
      },
    }
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return
    this.#disposed = true
    this.#client.off('ready', this.#onReady)
    if (this.#timer) clearTimeout(this.#timer)
    // A last chance for queued invalidations while the client may still answer (each publish is bounded).
    if (this.#queue.size > 0 && !this.#watch.unavailable) await this.#flush()
    this.#watch.dispose()
    await this.#subscription?.close()
  }

  async #send(message: BusMessage): Promise<void> {
    const payload = encode(message, this.instanceId, this.#secret)
    await this.#watch.run(() => this.#client.publish(this.channel, payload))
    this.#stats.published++
  }

  #enqueue(message: BusMessage): void {
    const key = JSON.stringify(message)
    if (this.#queue.has(key)) return
    if (this.#queue.size >= this.#queueSize) {
      // Which invalidations were dropped is unknown to the receivers, so they drop their whole L1.
      this.#stats.overflows++
      this.#queue.clear()
      this.#queue.set(JSON.stringify(CLEAR_ALL), CLEAR_ALL)
      return
    }
    this.#queue.set(key, message)
  }

  #scheduleRetry(): void {
    if (this.#timer || this.#disposed) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#flush()
    }, RETRY_INTERVAL)
    this.#timer.unref()
  }

  /** Sends the queue in order; stops at the first failure and tries again later. */
  async #flush(): Promise<void> {
    if (this.#flushing || this.#queue.size === 0) return
    this.#flushing = true
    try {
      for (const [key, message] of this.#queue) {
        await this.#send(message)
        this.#queue.delete(key)
      }
    } catch {
      this.#scheduleRetry()
    } finally {
      this.#flushing = false
    }
  }
}

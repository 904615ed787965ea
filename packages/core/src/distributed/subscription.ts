import type { Cluster, Redis, RedisOptions } from 'ioredis'
import { BusError } from '../errors.ts'
import { ioredis } from '../internal/ioredis.ts'
import { isCluster } from '../layers/redis-commands.ts'

/** What a `Subscription` reports to its owner. */
export interface SubscriptionHandlers {
  message(payload: string): void
  /** The connection came back after a loss: messages sent meanwhile were missed. */
  reconnected(): void
}

// On a Cluster, a subscriber that keeps failing to reconnect moves to another master after this many tries.
const ATTEMPTS_BEFORE_MOVING = 3

/**
 * One dedicated pub/sub connection on one channel, that knows when it may have missed messages.
 *
 * On a single Redis it is `client.duplicate()`. On a Cluster it is a plain connection to one master:
 * classic `PUBLISH` is forwarded to every node of a cluster, so any node hears every message. We do not
 * use the Cluster's own subscriber (what `cluster.duplicate().subscribe()` gives) because it silently
 * moves to another node when its node drops, with no event — and a bus must know when it was deaf.
 * Sharded pub/sub (`SSUBSCRIBE`) would put the whole bus on one shard anyway (one channel = one slot).
 */
export class Subscription {
  readonly #client: Redis | Cluster
  readonly #channel: string
  readonly #handlers: SubscriptionHandlers
  #connection: Redis | undefined
  #lost = false
  #failures = 0
  #closed = false
  #nodeIndex = 0

  constructor(client: Redis | Cluster, channel: string, handlers: SubscriptionHandlers) {
    this.#client = client
    this.#channel = channel
    this.#handlers = handlers
  }

  /**
   * Resolves once the channel is subscribed; rejects with a `BusError` when that takes longer than
   * `timeout` (Redis down or not answering). The subscription goes on trying either way: once it is
   * confirmed late, `reconnected` tells the owner that messages may have been missed meanwhile.
   */
  async start(timeout: number): Promise<void> {
    let gaveUp = false
    const subscribed = this.#open().then((connection) =>
      connection.subscribe(this.#channel).then(
        () => {
          if (this.#connection !== connection || this.#closed) return
          if (gaveUp && !this.#lost) this.#handlers.reconnected()
        },
        (error: unknown) => {
          // Never confirmed: the next 'ready' subscribes again (and reports what may have been missed).
          if (this.#connection === connection) this.#lost = true
          throw error
        },
      ),
    )
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        gaveUp = true
        reject(new BusError(`could not subscribe to "${this.#channel}" within ${timeout} ms`))
      }, timeout)
    })
    try {
      await Promise.race([
        subscribed.catch((error: unknown) => {
          gaveUp = true
          throw new BusError(`could not subscribe to "${this.#channel}"`, error)
        }),
        late,
      ])
    } finally {
      clearTimeout(timer)
    }
  }

  get connected(): boolean {
    return this.#connection?.status === 'ready' && !this.#lost
  }

  /** Closes the connection at once: a subscriber has nothing to flush, and `QUIT` could wait on a stalled Redis. */
  async close(): Promise<void> {
    this.#closed = true
    const connection = this.#connection
    this.#connection = undefined
    if (!connection) return
    connection.removeAllListeners('close')
    connection.disconnect()
  }

  async #open(): Promise<Redis> {
    // ioredis's own re-subscription after a reconnect leaves its promise unhandled: when the connection
    // drops again before the reply, that is an unhandled rejection. #resume subscribes instead.
    const options = { lazyConnect: false, autoResubscribe: false }
    const connection = isCluster(this.#client)
      ? new (ioredis().Redis)({ ...(await this.#clusterNode(this.#client)), ...options })
      : this.#client.duplicate(options)
    if (this.#closed) {
      // Closed while waiting for the cluster: nobody will close this one.
      connection.disconnect()
      throw new BusError('the subscription was closed')
    }
    this.#connection = connection
    // Connection errors are expected during an outage; the bus reports the outage through reconnects.
    connection.on('error', () => {})
    connection.on('message', (channel: string, payload: string) => {
      if (channel === this.#channel) this.#handlers.message(payload)
    })
    connection.on('close', () => {
      if (this.#connection === connection && !this.#closed) this.#lost = true
    })
    connection.on('reconnecting', () => {
      if (this.#connection !== connection || this.#closed) return
      if (isCluster(this.#client) && ++this.#failures >= ATTEMPTS_BEFORE_MOVING) this.#move(connection)
    })
    connection.on('ready', () => {
      if (this.#connection === connection) this.#resume(connection)
    })
    return connection
  }

  #resume(connection: Redis): void {
    this.#failures = 0
    if (!this.#lost || this.#closed) return
    // Waiting for the subscription's reply orders the distrust after the subscription is live, so no
    // message can slip between the two.
    connection.subscribe(this.#channel).then(
      () => {
        if (this.#connection !== connection || !this.#lost) return
        this.#lost = false
        this.#handlers.reconnected()
      },
      () => {},
    )
  }

  /** Cluster only: the current master does not come back, listen on the next one. */
  #move(old: Redis): void {
    this.#failures = 0
    this.#lost = true
    this.#nodeIndex++
    old.removeAllListeners('close')
    old.disconnect()
    this.#open().then(
      (connection) => {
        // #resume runs on 'ready' and calls `reconnected` once the subscription is confirmed.
        if (connection.status === 'ready') this.#resume(connection)
      },
      () => {},
    )
  }

  async #clusterNode(cluster: Cluster): Promise<RedisOptions> {
    let nodes = cluster.nodes('master')
    if (nodes.length === 0) {
      await new Promise<void>((resolve) => cluster.once('ready', () => resolve()))
      nodes = cluster.nodes('master')
    }
    const node = nodes[this.#nodeIndex % nodes.length]!
    const { host, port, username, password, tls, family } = node.options
    return { ...cluster.options.redisOptions, host, port, username, password, tls, family }
  }
}

import { CacheStack, RedisBus, RedisLayer, storedGeneration } from '@cachestack/core'
import { type Connection, connect, within } from './connect.ts'
import { CliError, oneLine } from './errors.ts'
import type { Settings } from './settings.ts'

/** How often the bus is checked for having sent what a command published. */
const SETTLE_POLL = 5

/**
 * A real core stack over the apps' Redis: one `RedisLayer` with their prefix, the generation they use,
 * and (for commands that change something) a `RedisBus` on their channel. Every command goes through
 * core's own methods, so the keys it touches and the messages it publishes are the apps' own.
 */
export class Session {
  readonly connection: Connection
  readonly stack: CacheStack
  readonly settings: Settings
  readonly #bus: RedisBus | undefined
  #published = 0

  private constructor(connection: Connection, stack: CacheStack, settings: Settings, bus?: RedisBus) {
    this.connection = connection
    this.stack = stack
    this.settings = settings
    this.#bus = bus
    stack.on('bus-publish', () => {
      this.#published++
    })
  }

  /** Connects, finds the generation and starts the stack (and its bus when `withBus`). */
  static async open(settings: Settings, withBus: boolean): Promise<Session> {
    const connection = await connect(settings.redis, settings.timeout)
    try {
      const layer = new RedisLayer({
        client: connection.client,
        prefix: settings.prefix,
        commandTimeout: settings.timeout,
        // An app's custom serializer is not ours: its entries read as a miss here and stay in Redis.
        keepUnreadable: true,
      })
      const generation = settings.generation ?? (await storedGeneration([layer]))
      const bus = withBus
        ? new RedisBus({
            client: connection.client,
            channel: settings.channel,
            signingSecret: settings.secret,
          })
        : undefined
      const stack = new CacheStack([layer], { bus, generation })
      const session = new Session(connection, stack, settings, bus)
      try {
        await stack.ready()
      } catch (error) {
        await stack.disconnect().catch(() => {})
        throw error
      }
      return session
    } catch (error) {
      await connection.close()
      throw new CliError('E_UNREACHABLE', `Redis at ${connection.shown} failed: ${oneLine(error)}`, {
        cause: error,
      })
    }
  }

  /** The number of bus messages this session published. */
  get published(): number {
    return this.#published
  }

  /**
   * Waits until Redis took every message the command published (within the timeout): the change is
   * in Redis already, and an app that did not hear of it would serve its L1 copy until it expires.
   */
  async settle(): Promise<void> {
    const bus = this.#bus
    if (bus === undefined || this.#published === 0) return
    let waiting = true
    const sent = (async () => {
      while (waiting && bus.stats.published < this.#published) {
        await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL))
      }
    })()
    await within(sent, this.settings.timeout, 'the bus').catch((error) => {
      waiting = false
      throw new CliError(
        'E_NOT_PUBLISHED',
        `the change is in Redis but was not published on "${this.settings.channel}" (${oneLine(error)}): ` +
          'running apps keep their L1 copies until those expire',
      )
    })
  }

  /** Running apps subscribed to the channel (the CLI's own subscriber not counted). */
  async listeners(): Promise<number> {
    let count = 0
    for (const node of this.connection.everyNode()) {
      const reply = (await within(
        node.call('PUBSUB', 'NUMSUB', this.settings.channel),
        this.settings.timeout,
        'Redis',
      )) as [string, number]
      count += Number(reply[1])
    }
    return Math.max(0, count - (this.#bus === undefined ? 0 : 1))
  }

  /** Stops the stack and closes the connection; never throws. */
  async close(): Promise<void> {
    await this.stack.disconnect().catch(() => {})
    await this.connection.close()
  }
}

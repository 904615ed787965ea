// Everything this instance says on the bus and does with what it hears, in one place: the messages it
// builds for its writes and invalidations, its subscription, and how another instance's message is
// applied to the local layers and tag states.

import type { BusCarriage, BusMessage, CacheBus } from './bus-message.ts'
import type { CacheEmitter } from './events.ts'
import { globToRegExp } from './keys.ts'
import type { TagState } from './tags.ts'

/** The local-only actions applying a message needs; `invalidation.ts` provides them for an engine. */
export interface LocalSync {
  /** Removes keys from the local layers. */
  deleteKeys(keys: readonly string[]): Promise<unknown>
  /** Removes every key under `prefix` from the local layers. */
  clearPrefix(prefix: string): Promise<void>
  /** Removes the keys under `scanPrefix` matching `pattern` from the local layers. */
  deleteMatching(scanPrefix: string, pattern: RegExp): Promise<unknown>
  /** Records a tag state (one per name, or one for the set of names with `all`). */
  recordTags(names: readonly string[], state: Partial<TagState>, all: boolean): void
  /** A strictly increasing local time. */
  stamp(): number
  /** Adopts another instance's key generation when it is newer. */
  adoptGeneration(value: number): void
  /** Drops everything local: after a bus outage local copies may have missed invalidations. */
  distrust(): Promise<void>
}

/** The bus side of one stack: publishing, subscribing, applying. A no-op without a bus. */
export class BusSync {
  readonly #bus: CacheBus | undefined
  readonly #emitter: CacheEmitter

  constructor(bus: CacheBus | undefined, emitter: CacheEmitter) {
    this.#bus = bus
    this.#emitter = emitter
  }

  /** Whether the bus hears other instances now; `undefined` without a bus (or a bus that cannot tell). */
  get connected(): boolean | undefined {
    return this.#bus?.listening
  }

  /** Starts applying other instances' messages; resolves once subscribed. Failures become `error` events. */
  async start(local: LocalSync): Promise<void> {
    const failed = (error: unknown) => this.#emitter.emitError(error, 'bus')
    await this.#bus?.subscribe(
      (message) => {
        this.apply(message, local).catch(failed)
      },
      () => {
        local.distrust().catch(failed)
      },
      failed,
    )
  }

  /**
   * Settles once `started` (the first subscription attempt) has: resolves when the bus is subscribed,
   * rejects with the bus's typed error when it is not (a bus without `ready()` answers with `started`).
   */
  async ready(started: Promise<unknown>): Promise<void> {
    const bus = this.#bus
    if (!bus?.ready) {
      await started
      return
    }
    await started.then(undefined, () => {})
    await bus.ready()
  }

  /** True when there is a bus to publish on (callers skip building a message otherwise). */
  get publishing(): boolean {
    return this.#bus !== undefined
  }

  /** Keys written here: other instances drop their local copies. */
  keysSet(keys: readonly string[]): void {
    if (this.#bus) this.#publish({ v: 1, type: 'set', keys: [...keys] })
  }

  /** Keys deleted here. */
  keysDeleted(keys: readonly string[]): void {
    if (this.#bus) this.#publish({ v: 1, type: 'delete', keys: [...keys] })
  }

  /** Keys soft-deleted here at `at`. */
  keysExpired(keys: readonly string[], at: number): void {
    if (this.#bus) this.#publish({ v: 1, type: 'expire', keys: [...keys], at })
  }

  /** Everything under a namespace path cleared (`''` = the whole stack). */
  cleared(namespace: string): void {
    if (this.#bus) this.#publish({ v: 1, type: 'clear', namespace })
  }

  /** Every key starting with `prefix` removed. */
  prefixCleared(prefix: string): void {
    if (this.#bus) this.#publish({ v: 1, type: 'prefix', prefix })
  }

  /** Keys of a namespace path matching a glob removed. */
  patternDeleted(namespace: string, pattern: string): void {
    if (this.#bus) this.#publish({ v: 1, type: 'pattern', namespace, pattern })
  }

  /**
   * Tags (scoped names) invalidated at `at`; `all` for the entries carrying all of them. With `via`, the client of the shared layer about to write the states, the bus may
   * hand the message to that write instead of publishing it (same server: one round trip for both): the
   * carriage is answered and the writer must pass it on.
   */
  tagsInvalidated(
    names: readonly string[],
    mode: 'hard' | 'soft',
    at: number,
    all = false,
    via?: unknown,
  ): BusCarriage | undefined {
    if (!this.#bus) return undefined
    const message: BusMessage = { v: 1, type: 'tags', names: [...names], mode, at }
    if (all) message.all = true
    const carriage = via === undefined ? undefined : this.#bus.carry?.(via, message)
    if (!carriage) this.#publish(message)
    else this.#emitter.emitBusPublish(message.type)
    return carriage
  }

  /** The key generation moved to `value`. */
  generationBumped(value: number): void {
    if (this.#bus) this.#publish({ v: 1, type: 'generation', value })
  }

  #publish(message: BusMessage): void {
    this.#bus!.publish(message)
    this.#emitter.emitBusPublish(message.type)
  }

  /** Applies another instance's message to this instance's local layers and tag states. */
  async apply(message: BusMessage, local: LocalSync): Promise<void> {
    this.#emitter.emitBusReceive(message.type)
    switch (message.type) {
      case 'set':
      case 'delete':
      case 'expire':
        await local.deleteKeys(message.keys)
        return
      case 'clear':
        return local.clearPrefix(message.namespace)
      case 'prefix':
        return local.clearPrefix(message.prefix)
      case 'pattern':
        await local.deleteMatching(message.namespace, globToRegExp(message.pattern))
        return
      case 'tags': {
        // Stamped with the later of the sender's clock and ours: every entry this instance holds was
        // created before now by our clock, so a sender whose clock lags ours cannot spare one of them.
        const at = Math.max(message.at, local.stamp())
        local.recordTags(
          message.names,
          message.mode === 'hard' ? { hard: at } : { soft: at },
          message.all === true,
        )
        return
      }
      case 'generation':
        local.adoptGeneration(message.value)
        return
    }
  }

  /** Stops and releases the bus. */
  async dispose(): Promise<void> {
    await this.#bus?.dispose()
  }
}

import type { Cluster, Redis } from 'ioredis'
import { CommandTimeoutError, RedisUnavailableError } from '../errors.ts'

/** @default commandTimeout of `RedisLayer`: how long one command may wait for Redis before it fails. */
export const DEFAULT_COMMAND_TIMEOUT = 1_000

/** What a watched connection reports: the first error of each outage (not every reconnect attempt). */
export type ConnectionErrorReport = (error: unknown) => void

interface Pending {
  deadline: number
  fail(error: Error): void
}

/**
 * Bounds every command on one ioredis client and fails fast while the connection is known to be bad,
 * whether the layer created the client or was given it.
 *
 * ioredis on its own queues commands while it reconnects and fails them only after
 * `maxRetriesPerRequest` (20) reconnect attempts, ~10 s on a refused port, and waits forever on a Redis
 * that accepted the connection and stopped answering (SIGSTOP, a stuck host). Here:
 * - **down**: from a connection loss (or a failed connect) until ioredis is `ready` again, commands are
 *   not sent at all and reject at once with `RedisUnavailableError`; commands already waiting for the
 *   connection reject when it is lost.
 * - **stalled**: once a command on a connected client goes unanswered for `timeout`, later commands
 *   reject at once until that command (or any other) gets its answer: pipelined replies come in order,
 *   so one answer means Redis is back.
 * - every other command rejects with `CommandTimeoutError` after `timeout`.
 * One timer serves every pending command (they share one timeout, so deadlines come in order).
 */
export class ConnectionWatch {
  readonly #client: Redis | Cluster
  readonly #timeout: number
  readonly #report: ConnectionErrorReport
  readonly #pending = new Set<Pending>()
  #timer: NodeJS.Timeout | undefined
  #down: boolean
  #stalled = false
  #lastError: unknown
  #reported = false
  readonly #onError = (error: unknown) => {
    this.#lastError = error
    if (this.#reported) return
    this.#reported = true
    this.#report(error)
  }
  readonly #onClose = () => {
    this.#down = true
    this.#failAll(() => this.#unavailable())
  }
  readonly #onReady = () => {
    this.#down = false
    this.#stalled = false
    this.#reported = false
  }

  constructor(client: Redis | Cluster, timeout: number, report: ConnectionErrorReport) {
    this.#client = client
    this.#timeout = timeout
    this.#report = report
    this.#down = ['reconnecting', 'close', 'end'].includes(client.status)
    // Listening to 'error' also stops ioredis printing "[ioredis] Unhandled error event" for a client
    // the user handed us: its errors reach the stack's `error` event instead.
    client.on('error', this.#onError)
    client.on('close', this.#onClose)
    client.on('end', this.#onClose)
    client.on('ready', this.#onReady)
  }

  /** True while commands fail fast: the connection is lost, or Redis left a command unanswered. */
  get unavailable(): boolean {
    return this.#stalled || (this.#down && this.#client.status !== 'ready')
  }

  /** Sends a command (`send` is only called when the connection may answer) and bounds its wait. */
  run<T>(send: () => Promise<T>): Promise<T> {
    if (this.unavailable) return Promise.reject(this.#unavailable())
    const promise = send()
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = {
        deadline: performance.now() + this.#timeout,
        fail: (error) => {
          this.#pending.delete(pending)
          reject(error)
        },
      }
      this.#pending.add(pending)
      this.#arm()
      promise.then(
        (value) => {
          this.#stalled = false
          this.#pending.delete(pending)
          resolve(value)
        },
        (error: unknown) => {
          // A reply error is still an answer: Redis is there.
          if ((error as { name?: string } | null)?.name === 'ReplyError') this.#stalled = false
          this.#pending.delete(pending)
          reject(error)
        },
      )
    })
  }

  /** Stops listening to the client (the layer is disposed). */
  dispose(): void {
    this.#client.off('error', this.#onError)
    this.#client.off('close', this.#onClose)
    this.#client.off('end', this.#onClose)
    this.#client.off('ready', this.#onReady)
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #arm(): void {
    if (this.#timer || this.#pending.size === 0) return
    const first = this.#pending.values().next().value!
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, first.deadline - performance.now()))
    this.#timer.unref()
  }

  #expire(): void {
    this.#timer = undefined
    const now = performance.now()
    for (const pending of this.#pending) {
      // Deadlines grow in insertion order: the first one not due ends the sweep.
      if (pending.deadline > now) break
      if (this.#client.status === 'ready') this.#stalled = true
      else this.#down = true
      pending.fail(new CommandTimeoutError(this.#timeout))
    }
    this.#arm()
  }

  #failAll(error: () => Error): void {
    for (const pending of [...this.#pending]) pending.fail(error())
  }

  #unavailable(): RedisUnavailableError {
    return new RedisUnavailableError(
      this.#stalled
        ? `an earlier command got no answer within ${this.#timeout} ms; commands fail at once until Redis answers it`
        : `the connection is down${this.#lastError instanceof Error ? ` (${this.#lastError.message})` : ''}; commands fail at once until ioredis reconnects`,
      this.#stalled ? undefined : this.#lastError,
    )
  }
}

/**
 * Closes a client the layer created, within `timeout`: `QUIT` when it is connected and answering, a plain
 * disconnect when it is not (or when `QUIT` goes unanswered).
 */
export async function closeClient(
  client: Redis | Cluster,
  unavailable: boolean,
  timeout: number,
): Promise<void> {
  if (unavailable || client.status !== 'ready') {
    client.disconnect()
    return
  }
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeout)
  })
  await Promise.race([client.quit().catch(() => {}), late])
  clearTimeout(timer)
  // Closes the socket when QUIT went unanswered; after a QUIT that was answered it changes nothing.
  client.disconnect()
}

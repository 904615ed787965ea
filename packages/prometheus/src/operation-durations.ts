import { tracingChannel } from 'node:diagnostics_channel'
import { OPERATION_CHANNEL, type OperationContext } from '@cachestack/core'
import type { Histogram } from 'prom-client'

type Handlers = Parameters<typeof operations.subscribe>[0]
type Observe = (seconds: number) => void

const operations = tracingChannel<unknown, OperationContext>(OPERATION_CHANNEL)
/** When the operation started (ms), kept on the message itself: cheaper than a side map per operation. */
const STARTED: unique symbol = Symbol('cachestack.prometheus.started')
type Timed = OperationContext & { [STARTED]?: number }

/** Operations whose answer is a hit, a stale hit or a miss. */
const READS = new Set(['get', 'has', 'ttl', 'inspect'])

/** Times one stack's operations into a shared histogram, one child per label combination. */
export class DurationRecorder {
  readonly #histogram: Histogram<string>
  readonly #cache: string
  /** `operation\0result\0layer` → the child's observe; the labels behind it, to remove them on dispose. */
  readonly #children = new Map<string, { observe: Observe; labels: Record<string, string> }>()

  constructor(histogram: Histogram<string>, cache: string) {
    this.#histogram = histogram
    this.#cache = cache
  }

  record(message: OperationContext, seconds: number): void {
    const result = resultOf(message)
    const layer = message.layer
    const id = `${message.operation}\0${result}\0${layer ?? ''}`
    let child = this.#children.get(id)
    if (child === undefined) {
      const labels: Record<string, string> = { cache: this.#cache, operation: message.operation, result }
      if (layer !== undefined) labels.layer = layer
      child = { observe: this.#histogram.labels(labels).observe, labels }
      this.#children.set(id, child)
    }
    child.observe(seconds)
  }

  /** Drops this stack's series from the histogram. */
  dispose(): void {
    for (const { labels } of this.#children.values()) this.#histogram.remove(labels)
    this.#children.clear()
  }
}

/** `hit`, `stale` or `miss` for reads, `error` for a failure, `ok` otherwise. */
function resultOf(message: OperationContext): string {
  if (message.error !== undefined) return 'error'
  if (!READS.has(message.operation)) return 'ok'
  if (message.hit !== true) return 'miss'
  return message.stale === true ? 'stale' : 'hit'
}

/** Every timed root stack; one subscription serves them all. */
const recorders = new Map<object, DurationRecorder>()

function finish(message: Timed): void {
  const started = message[STARTED]
  if (started === undefined) return
  message[STARTED] = undefined
  const recorder = message.cache === undefined ? undefined : recorders.get(message.cache)
  recorder?.record(message, (performance.now() - started) / 1000)
}

const handlers: Handlers = {
  start(message) {
    if (message.cache !== undefined && recorders.has(message.cache)) {
      ;(message as Timed)[STARTED] = performance.now()
    }
  },
  end(message) {
    // A synchronous operation (an in-memory hit) ends here, with `result` or `error` already set.
    if ('result' in message || message.error !== undefined) finish(message)
  },
  asyncStart() {},
  asyncEnd(message) {
    finish(message)
  },
  error() {},
}

/** Starts timing `cache`'s operations. */
export function startTiming(cache: object, recorder: DurationRecorder): void {
  if (recorders.size === 0) operations.subscribe(handlers)
  recorders.set(cache, recorder)
}

/** Stops; the last one out unsubscribes, so the hit path is back to not publishing at all. */
export function stopTiming(cache: object): void {
  const recorder = recorders.get(cache)
  if (recorder === undefined) return
  recorders.delete(cache)
  recorder.dispose()
  if (recorders.size === 0) operations.unsubscribe(handlers)
}

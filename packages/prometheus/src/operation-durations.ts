import { tracingChannel } from 'node:diagnostics_channel'
import { OPERATION_CHANNEL, type OperationContext } from '@cachestack/core'
import type { DurationHistogram } from './duration-histogram.ts'

type Handlers = Parameters<typeof operations.subscribe>[0]
type Observe = (seconds: number) => void

const operations = tracingChannel<unknown, OperationContext>(OPERATION_CHANNEL)
/** When the operation started (ms), kept on the message itself: cheaper than a side map per operation. */
const STARTED: unique symbol = Symbol('cachestack.prometheus.started')
type Timed = OperationContext & { [STARTED]?: number }

/** Operations whose answer is a hit, a stale hit or a miss. */
const READS = new Set(['get', 'has', 'ttl', 'inspect'])

/** Times one stack's operations into the shared histogram, one child per label combination. */
export class DurationRecorder {
  readonly #histogram: DurationHistogram
  readonly #cache: string
  /** `operation\0result\0layer` → the child's observer. */
  readonly #children = new Map<string, Observe>()

  constructor(histogram: DurationHistogram, cache: string) {
    this.#histogram = histogram
    this.#cache = cache
  }

  // Most operations repeat the previous one's combination (a run of hits): skip building the id then.
  #lastOperation = ''
  #lastResult = ''
  #lastLayer: string | undefined
  #lastObserve: Observe | undefined

  record(message: OperationContext, seconds: number): void {
    const result = resultOf(message)
    const layer = message.layer
    if (
      this.#lastObserve !== undefined &&
      message.operation === this.#lastOperation &&
      result === this.#lastResult &&
      layer === this.#lastLayer
    ) {
      this.#lastObserve(seconds)
      return
    }
    const id = `${message.operation}\0${result}\0${layer ?? ''}`
    let observe = this.#children.get(id)
    if (observe === undefined) {
      const labels: Record<string, string> = { cache: this.#cache, operation: message.operation, result }
      if (layer !== undefined) labels.layer = layer
      observe = this.#histogram.child(`${this.#cache}\0${id}`, labels)
      this.#children.set(id, observe)
    }
    this.#lastOperation = message.operation
    this.#lastResult = result
    this.#lastLayer = layer
    this.#lastObserve = observe
    observe(seconds)
  }

  /** Drops this stack's series from the histogram. */
  dispose(): void {
    this.#histogram.remove(`${this.#cache}\0`)
    this.#children.clear()
    this.#lastObserve = undefined
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

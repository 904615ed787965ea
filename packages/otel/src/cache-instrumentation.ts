import { hash } from 'node:crypto'
import type { OperationContext } from '@cachestack/core'
import {
  type Attributes,
  type Context,
  type Link,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from '@opentelemetry/api'
import { errorType, exceptionOf } from './error-record.ts'
import { ATTR, spanName } from './names.ts'
import { OperationMetrics } from './operation-metrics.ts'
import type { NormalizedOptions } from './options.ts'

const SPAN = Symbol('cachestack.otel.span')
const STARTED = Symbol('cachestack.otel.started')
const DONE = Symbol('cachestack.otel.done')
/** On each cache span: its parent span, so `cache.status` can skip past cache spans. */
const PARENT = Symbol('cachestack.otel.parent')

/** A channel message with what this package keeps on it between `start` and `asyncEnd`. */
type Tracked = OperationContext & { [SPAN]?: Span; [STARTED]?: number; [DONE]?: true }

type CacheSpan = Span & { [PARENT]?: Span | undefined }

/** The innermost active span that is not a cache operation's (the server span, the RPC call's span). */
export function activeOuterSpan(active: Span | undefined): Span | undefined {
  let span = active as CacheSpan | undefined
  while (span !== undefined && PARENT in span) span = span[PARENT]
  return span
}

/** Whether this message was handled already (bound-store mode starts it before `start` subscribers). */
export function isTracked(message: OperationContext): boolean {
  return (message as Tracked)[STARTED] !== undefined
}

/** A parent span the sampler said no to: its children are not sampled either (ParentBased, the SDK default). */
function unsampledParent(parent: Context): boolean {
  const span = trace.getSpan(parent)
  return span !== undefined && (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0
}

/** SHA-256 of a key, 16 hex digits: enough to tell keys apart in a trace, not meant as secrecy. */
export function keyHash(key: string): string {
  return hash('sha256', key).slice(0, 16)
}

/** Turns one stack's channel messages into spans and metrics. */
export class CacheInstrumentation {
  readonly #options: NormalizedOptions
  readonly #metrics: OperationMetrics
  /** The last parent judged and the answer: a request's operations share one (immutable) context. */
  #parent: Context | undefined
  #parentUnsampled = false

  constructor(options: NormalizedOptions) {
    this.#options = options
    this.#metrics = new OperationMetrics(options.meter, options.name)
  }

  /** Starts the operation's span under `parent`; returns the context the operation runs in. */
  start(message: OperationContext, parent: Context): Context {
    const tracked = message as Tracked
    // No span under an unsampled parent: it would not be recorded, and making one (ids, context) is most
    // of what instrumentation costs on an in-memory hit. Metrics still count the operation.
    if (message.background !== true && this.#unsampled(parent)) {
      // An L1 hit is answered already: counted now, and left untracked, so `end` has nothing to do.
      if (message.synchronous === true) this.#metrics.record(message, 0, undefined)
      else tracked[STARTED] = performance.now()
      return parent
    }
    // A synchronous hit has nothing to time (see finish): no clock read.
    tracked[STARTED] = message.synchronous === true ? 0 : performance.now()
    const attributes: Attributes = {
      [ATTR.operation]: message.operation,
      [ATTR.name]: this.#options.name,
    }
    if (message.namespace !== '') attributes[ATTR.namespace] = message.namespace
    // A background refresh is its own trace, linked to the read that started it: that read has
    // already answered, and its trace should not stay open (or look slow) for work nobody waits on.
    const trigger = (message.trigger as Tracked | undefined)?.[SPAN]
    const links: Link[] | undefined = trigger ? [{ context: trigger.spanContext() }] : undefined
    const span = this.#options.tracer.startSpan(
      spanName(message.operation),
      { kind: SpanKind.INTERNAL, attributes, links, root: message.background === true },
      parent,
    )
    tracked[SPAN] = span
    ;(span as CacheSpan)[PARENT] = trace.getSpan(parent)
    if (span.isRecording()) this.#describe(span, message)
    return trace.setSpan(parent, span)
  }

  #unsampled(parent: Context): boolean {
    if (parent !== this.#parent) {
      this.#parentUnsampled = unsampledParent(parent)
      this.#parent = parent
    }
    return this.#parentUnsampled
  }

  /** What is known when the operation starts: keys (hashed unless `includeKeys`), tags, mode. */
  #describe(span: Span, message: OperationContext): void {
    const raw = this.#options.includeKeys
    if (message.key !== undefined) {
      span.setAttribute(ATTR.keyHash, keyHash(message.key))
      if (raw) span.setAttribute(ATTR.key, message.key)
    }
    if (message.keys !== undefined) {
      span.setAttribute(ATTR.keysCount, message.keys.length)
      if (raw) span.setAttribute(ATTR.keys, [...message.keys])
    }
    if (message.tags !== undefined) span.setAttribute(ATTR.tagsCount, message.tags.length)
    if (message.mode !== undefined) span.setAttribute(ATTR.invalidateMode, message.mode)
    if (raw && message.prefix !== undefined) span.setAttribute(ATTR.prefix, message.prefix)
    if (raw && message.pattern !== undefined) span.setAttribute(ATTR.pattern, message.pattern)
    if (message.background === true) span.setAttribute(ATTR.background, true)
  }

  /** Records the error on the span (the span ends on `asyncEnd`, or on `end` for a synchronous throw). */
  fail(message: OperationContext): void {
    const span = (message as Tracked)[SPAN]
    if (span === undefined || !span.isRecording()) return
    const exception = exceptionOf(message.error, this.#options.includeKeys)
    span.recordException(exception)
    span.setStatus({ code: SpanStatusCode.ERROR, message: exception.message })
  }

  /** Ends the span with what the operation learned, and records the metrics. */
  finish(message: OperationContext): void {
    const tracked = message as Tracked
    if (tracked[STARTED] === undefined || tracked[DONE]) return
    tracked[DONE] = true
    const span = tracked[SPAN]
    if (span?.isRecording()) {
      if (message.hit !== undefined) span.setAttribute(ATTR.hit, message.hit)
      if (message.stale !== undefined) span.setAttribute(ATTR.stale, message.stale)
      if (message.layer !== undefined) span.setAttribute(ATTR.layer, message.layer)
      if (message.hits !== undefined) span.setAttribute(ATTR.hits, message.hits)
      if (message.coalesced === true) span.setAttribute(ATTR.coalesced, true)
    }
    span?.end()
    const failed = message.error !== undefined ? errorType(message.error) : undefined
    // A synchronous L1 hit was over before it was published: between start and end runs only this
    // package. Recorded as 0 ms (it took ~0.1 µs); timing it would read the clock twice, more than the hit.
    const ms = message.synchronous === true ? 0 : performance.now() - tracked[STARTED]
    this.#metrics.record(message, ms, failed)
  }

  /** Stops the hit-ratio gauge. */
  dispose(): void {
    this.#metrics.dispose()
  }
}

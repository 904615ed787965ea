import { AsyncLocalStorage } from 'node:async_hooks'
import { channel, tracingChannel } from 'node:diagnostics_channel'
import { OPERATION_CHANNEL, type OperationContext, SERVE_CHANNEL, type ServeMessage } from '@cachestack/core'
import { type Context, context, trace } from '@opentelemetry/api'
import { activeOuterSpan, type CacheInstrumentation, isTracked } from './cache-instrumentation.ts'
import { ATTR } from './names.ts'

type Handlers = Parameters<typeof operations.subscribe>[0]

const operations = tracingChannel<unknown, OperationContext>(OPERATION_CHANNEL)
const serve = channel(SERVE_CHANNEL)
/** Every instrumented root stack; one subscription and one store binding serve them all. */
const registry = new Map<object, CacheInstrumentation>()
let bound: AsyncLocalStorage<Context> | undefined

/**
 * OpenTelemetry's own AsyncLocalStorage, when the global context manager is the AsyncLocalStorage one
 * (`@opentelemetry/context-async-hooks`, which the Node SDK registers). The API offers no public way to
 * reach it yet (opentelemetry-js issue 6088), so this reads the manager's field, and checks what it got.
 */
function otelStorage(): AsyncLocalStorage<Context> | undefined {
  const api = context as unknown as { _getContextManager?: () => unknown }
  const manager = api._getContextManager?.() as { _asyncLocalStorage?: unknown } | undefined
  const storage = manager?._asyncLocalStorage
  return storage instanceof AsyncLocalStorage ? (storage as AsyncLocalStorage<Context>) : undefined
}

/**
 * Bound to `start`: runs before `start` subscribers and returns the context the operation (its factory
 * included) runs in. Messages of stacks nobody instrumented keep the current context.
 */
function enter(message: OperationContext): Context {
  const parent = context.active()
  const instrumentation = instrumentationOf(message)
  return instrumentation === undefined ? parent : instrumentation.start(message, parent)
}

/** Binds `enter` to OpenTelemetry's storage once one is registered (the SDK may start after us). */
function bindStorage(): void {
  if (bound !== undefined) return
  const storage = otelStorage()
  if (storage === undefined) return
  operations.start.bindStore(storage, enter)
  bound = storage
}

/** The stack of the last message and its instrumentation: runs of operations are of one stack. */
let lastCache: object | undefined
let lastInstrumentation: CacheInstrumentation | undefined

function instrumentationOf(message: OperationContext): CacheInstrumentation | undefined {
  const cache = message.cache
  if (cache !== lastCache) {
    lastCache = cache
    lastInstrumentation = cache === undefined ? undefined : registry.get(cache)
  }
  return lastInstrumentation
}

const handlers: Handlers = {
  start(message) {
    bindStorage()
    // Without a bound storage the span still starts here, under the caller's context; only the
    // factory's own spans cannot be made its children then.
    if (!isTracked(message)) instrumentationOf(message)?.start(message, context.active())
  },
  end(message) {
    // Nothing started for it: another stack's operation, or an L1 hit counted at `start`.
    if (!isTracked(message)) return
    // A synchronous operation (traceSync: an in-memory hit) or a synchronous throw ends here, without
    // asyncEnd; Node sets `result` or `error` before `end` only then.
    if ('result' in message || message.error !== undefined) instrumentationOf(message)?.finish(message)
  },
  asyncStart() {},
  asyncEnd(message) {
    instrumentationOf(message)?.finish(message)
  },
  error(message) {
    instrumentationOf(message)?.fail(message)
  },
}

function onServe(message: unknown): void {
  const { status, detail } = message as ServeMessage
  const span = activeOuterSpan(trace.getActiveSpan())
  if (span === undefined || !span.isRecording()) return
  span.setAttribute(ATTR.status, status)
  if (detail !== undefined) span.setAttribute(ATTR.statusDetail, detail)
}

/** Starts feeding `instrumentation` with `cache`'s operations. */
export function register(cache: object, instrumentation: CacheInstrumentation): void {
  const first = registry.size === 0
  registry.set(cache, instrumentation)
  lastCache = undefined
  lastInstrumentation = undefined
  if (!first) return
  bindStorage()
  operations.subscribe(handlers)
  serve.subscribe(onServe)
}

/** Stops; the last one out unsubscribes, so an uninstrumented process pays nothing again. */
export function unregister(cache: object): void {
  const instrumentation = registry.get(cache)
  if (instrumentation === undefined) return
  registry.delete(cache)
  lastCache = undefined
  lastInstrumentation = undefined
  instrumentation.dispose()
  if (registry.size > 0) return
  operations.unsubscribe(handlers)
  serve.unsubscribe(onServe)
  if (bound !== undefined) operations.start.unbindStore(bound)
  bound = undefined
}

/** Whether `cache` is instrumented now. */
export function isRegistered(cache: object): boolean {
  return registry.has(cache)
}

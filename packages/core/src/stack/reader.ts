import { CircuitOpenError, FactoryError, FactoryTimeoutError } from '../errors.ts'
import type { CacheEntry } from '../layer.ts'
import type { Flight, Found, StackEngine } from './engine.ts'
import { touchEntry, writeValue } from './entry-writes.ts'
import { type Factory, FactoryContextImpl, failureCause } from './factory.ts'
import { awaitFlight, withTimeouts } from './flight-wait.ts'
import { LazyAbort } from './lazy-abort.ts'
import {
  type ReadOptions,
  type ResolvedReadOptions,
  resolveEntryOptions,
  resolveReadOptions,
} from './options.ts'
import {
  countHit,
  countMiss,
  entryValue,
  type ReadTrace,
  reportWrite,
  serveStale,
  windowsOf,
} from './read-report.ts'
import type { FlightLease } from './single-flight.ts'
import { type OperationContext, operationChannel, traced } from './tracing.ts'

export { entryValue, type ReadTrace } from './read-report.ts'

/** One read-through call: who asks, for which key, with what. */
export interface ReadRequest {
  /** Full key (generation + namespace + key). */
  key: string
  /** The key as the caller gave it, for the factory context. */
  userKey: string
  /** The namespace path of the view (`''` for the root). */
  namespace: string
  factory: Factory<unknown> | undefined
  options: ReadOptions | undefined
  trace?: ReadTrace | undefined
}

const RESOLVED: Promise<unknown> = Promise.resolve()

/** The full read path: layers, freshness windows, stampede protection, timeouts and grace. */
export async function readThrough(engine: StackEngine, request: ReadRequest): Promise<unknown> {
  engine.assertOpen()
  const { key, factory } = request
  const found = await engine.access.lookup(key, factory !== undefined)
  const now = engine.clock.now()
  const raw = request.options
  const forceFresh = raw?.forceFresh ?? engine.defaults.forceFresh
  if (found) {
    const { entry, freshUntil } = found
    const windows = windowsOf(found)
    if (now < freshUntil && !(forceFresh && factory)) {
      countHit(engine, key, request.trace, found, false)
      onFreshHit(engine, request, found, now)
      if (factory) maybeRefreshAhead(engine, request, found, now)
      return entryValue(entry)
    }
    if (!factory) {
      // Only entries still inside a window are servable; past them the entry only awaits eviction.
      if (now < windows.swrUntil || now < windows.graceUntil) {
        countHit(engine, key, request.trace, found, true)
        countAccess(engine, request)
        return entryValue(entry)
      }
    } else if (now < windows.swrUntil && !forceFresh) {
      countHit(engine, key, request.trace, found, true)
      countAccess(engine, request)
      engine.emitter.emitStaleServe(key, 'stale-while-revalidate')
      refreshInBackground(engine, request, entry)
      return entryValue(entry)
    }
  }
  if (!factory) {
    countMiss(engine, key, request.trace)
    return undefined
  }
  const graced = found && now < windowsOf(found).graceUntil ? found.entry : undefined
  if (graced && (engine.backoffUntil.get(key) ?? 0) > now) {
    countHit(engine, key, request.trace, found!, true)
    engine.emitter.emitStaleServe(key, 'backoff')
    return entryValue(graced)
  }
  countMiss(engine, key, request.trace)
  // `return await`: returning the promise from an async function would cost two more microtask turns.
  return await runForeground(engine, request, graced, found?.entry)
}

/** A fresh hit: counts it for `adaptiveTtl` and moves a sliding entry's fresh period. */
function onFreshHit(engine: StackEngine, request: ReadRequest, found: Found, now: number): void {
  countAccess(engine, request)
  const { entry } = found
  const raw = request.options
  const by =
    entry.sliding ??
    ((raw?.slidingTtl ?? engine.defaults.slidingTtl) ? resolveFor(engine, raw).ttl : undefined)
  if (by === undefined || entry.freshUntil !== found.freshUntil) return
  const slide = engine.sliding.onHit(request.key, entry, by, now, !engine.layers[found.layer]!.isLocal)
  if (slide) touchEntry(engine, request.key, slide.entry, slide.shared)
}

function countAccess(engine: StackEngine, request: ReadRequest): void {
  if (request.options?.adaptiveTtl !== undefined || engine.defaults.adaptiveTtl !== undefined) {
    engine.profiles.hit(request.key)
  }
}

/**
 * Joins or starts the flight for a miss. Not async: a plain miss (no graced value, no timeout) hands
 * back the flight's own promise, with no wrapper of its own.
 */
function runForeground(
  engine: StackEngine,
  request: ReadRequest,
  graced: CacheEntry | undefined,
  stale: CacheEntry | undefined,
): Promise<unknown> {
  try {
    return joinFlight(engine, request, graced, stale)
  } catch (error) {
    return Promise.reject(error)
  }
}

function joinFlight(
  engine: StackEngine,
  request: ReadRequest,
  graced: CacheEntry | undefined,
  stale: CacheEntry | undefined,
): Promise<unknown> {
  const { key } = request
  const options = resolveFor(engine, request.options)
  const trace = request.trace
  let flight = engine.flights.get(key)
  if (flight) {
    engine.metrics.coalesced++
    if (trace) trace.coalesced = true
    engine.emitter.emitStampedeDedupe(key)
  } else {
    const breaker = options.circuitBreaker
    const decision = breaker ? engine.breakers.acquire(key, breaker) : undefined
    if (decision && !decision.allowed) {
      if (graced) return Promise.resolve(serveStale(engine, key, graced, 'circuit-open', trace))
      throw new CircuitOpenError(key, decision.retryAt)
    }
    flight = startFlight(engine, request, options, stale, false)
  }
  const soft = graced ? options.timeout : undefined
  const hard = options.hardTimeout
  if (soft === undefined && hard === undefined) {
    // Nothing to fall back on: the flight's outcome is the answer, as it is.
    return graced ? awaitFlight(engine, key, flight, options, graced, trace) : flight.promise
  }
  return withTimeouts(engine, request, flight, options, graced, soft, hard)
}

/** Starts the one factory run for `key`; every concurrent caller awaits the same promise. */
function startFlight(
  engine: StackEngine,
  request: ReadRequest,
  options: ResolvedReadOptions,
  graced: CacheEntry | undefined,
  background: boolean,
): Flight {
  const { key, namespace } = request
  const factory = request.factory!
  const controller = new LazyAbort()
  const flight: Flight = { promise: RESOLVED, invalidated: false, background, controller }
  // The result is as old as the moment the factory started: a tag invalidated while it ran applies to it.
  const startedAt = engine.stamp()
  const run = async (lease?: FlightLease): Promise<unknown> => {
    const limit = options.fetcherRateLimit
    const release = limit ? await engine.rateLimiter.acquire(key, limit, controller.signal) : undefined
    const context = new FactoryContextImpl<unknown>(request.userKey, graced, controller, background)
    let value: unknown
    engine.metrics.factoryRuns++
    try {
      value = await factory(context)
    } catch (error) {
      engine.metrics.factoryErrors++
      throw new FactoryError(key, failureCause(error), background)
    } finally {
      release?.()
    }
    if (context.skipped) return value
    const resolved = context.overrides ? resolveEntryOptions(context.overrides, options) : options
    if (value === undefined) {
      if (
        options.negativeCache &&
        !flight.invalidated &&
        !engine.disconnected &&
        (lease === undefined || (await lease.confirm()))
      ) {
        const negative = { ...resolved, ttl: options.negativeTtl, layerTtls: undefined, slidingTtl: false }
        await writeValue(engine, key, namespace, null, negative, startedAt, lease?.fence, true).catch(
          (error) => reportWrite(engine, key, error),
        )
      }
      return undefined
    }
    if (options.shouldCache && !options.shouldCache(value)) return value
    engine.values.assert(namespace + request.userKey, value)
    // Without a shared lease there is nothing to confirm: no await, no extra turn of the microtask queue.
    if (!flight.invalidated && !engine.disconnected && (lease === undefined || (await lease.confirm()))) {
      try {
        await writeValue(engine, key, namespace, value, resolved, startedAt, lease?.fence)
      } catch (error) {
        reportWrite(engine, key, error)
      }
    }
    engine.backoffUntil.delete(key)
    return value
  }
  // Across instances: the local dedupe above lets one caller per process through to the shared lease.
  const shared = engine.singleFlight
  const since = options.forceFresh ? engine.clock.now() : Number.NEGATIVE_INFINITY
  const work = shared
    ? shared.run(key, {
        compute: run,
        landed: () => landedEntry(engine, key, since),
        signal: controller.signal,
        storageKey: fencedStorageKey(engine, key),
      })
    : run()
  // then(ok, failed) rather than finally(): finally builds two more promises per miss.
  const landed = () => {
    if (engine.flights.get(key) === flight) engine.flights.delete(key)
  }
  flight.promise = work.then(
    (value) => {
      landed()
      return value
    },
    (error: unknown) => {
      landed()
      throw error
    },
  )
  const breaker = options.circuitBreaker
  if (breaker) {
    flight.promise.then(
      () => engine.breakers.succeeded(key, breaker),
      (error) => {
        if (error instanceof FactoryError) engine.breakers.failed(key, breaker)
      },
    )
  }
  // Waiters that gave up (soft timeout) or background runs must never surface an unhandled rejection.
  flight.promise.catch(() => {})
  engine.flights.set(key, flight)
  return flight
}

/** Where the first shared layer able to fence a write stores `key`: the lease is kept beside it. */
function fencedStorageKey(engine: StackEngine, key: string): string | undefined {
  for (const layer of engine.layers) {
    if (!layer.isLocal && layer.setFenced && layer.storageKey) return layer.storageKey(key)
  }
  return undefined
}

/** One background refresh per key; abandoned after `backgroundRefreshTimeout`. */
function refreshInBackground(engine: StackEngine, request: ReadRequest, stale: CacheEntry): void {
  const { key } = request
  if (engine.flights.has(key) || engine.disconnected) return
  if ((engine.backoffUntil.get(key) ?? 0) > engine.clock.now()) return
  const options = resolveFor(engine, request.options)
  // An open circuit means no refresh: the stale value keeps being served.
  if (options.circuitBreaker && !engine.breakers.acquire(key, options.circuitBreaker).allowed) return
  const flight = operationChannel.hasSubscribers
    ? tracedRefresh(engine, request, options, stale)
    : startFlight(engine, request, options, stale, true)
  engine.metrics.backgroundRefreshes++
  engine.emitter.emitRefresh(key)
  const timer = setTimeout(() => {
    if (engine.flights.get(key) !== flight) return
    flight.invalidated = true
    engine.flights.delete(key)
    const error = new FactoryTimeoutError(key, engine.backgroundRefreshTimeout)
    flight.controller.abort(error)
    engine.emitter.emitRefreshError(key, error)
  }, engine.backgroundRefreshTimeout)
  timer.unref()
  flight.promise.then(
    () => clearTimeout(timer),
    (error) => {
      clearTimeout(timer)
      if (options.graceBackoff > 0) engine.backoffUntil.set(key, engine.clock.now() + options.graceBackoff)
      engine.emitter.emitRefreshError(key, error)
      engine.emitter.emitError(error, 'refresh', key)
    },
  )
}

/**
 * A background refresh as its own `refresh` operation, started inside its own `start` stores (so the
 * factory's spans belong to the refresh, not to the read that returned already); `trigger` names that read.
 */
function tracedRefresh(
  engine: StackEngine,
  request: ReadRequest,
  options: ResolvedReadOptions,
  stale: CacheEntry,
): Flight {
  // The read's own message when it is traced (a `READ_TRACE` object alone is not a message).
  const trace = request.trace as OperationContext | undefined
  const trigger = trace?.operation === undefined ? undefined : trace
  let flight: Flight | undefined
  traced(
    {
      operation: 'refresh',
      key: trigger?.key ?? request.namespace + request.userKey,
      namespace: request.namespace,
      cache: trigger?.cache,
      tags: trigger?.tags,
      background: true,
      trigger,
    },
    () => {
      flight = startFlight(engine, request, options, stale, true)
      return flight.promise
    },
  ).catch(() => {})
  return flight!
}

function maybeRefreshAhead(engine: StackEngine, request: ReadRequest, found: Found, now: number): void {
  const ahead =
    request.options?.refreshAhead !== undefined
      ? resolveFor(engine, request.options).refreshAhead
      : engine.defaults.refreshAhead
  if (ahead === undefined) return
  const { entry } = found
  const threshold = ahead < 1 ? ahead * (entry.freshUntil - Math.floor(entry.createdAt)) : ahead
  if (found.freshUntil - now < threshold) refreshInBackground(engine, request, entry)
}

function resolveFor(engine: StackEngine, options: ReadOptions | undefined): ResolvedReadOptions {
  return options === undefined ? engine.defaults : resolveReadOptions(options, engine.defaults)
}

/**
 * `landed` for the read path: a fresh entry now in the layers. `since` excludes entries that were
 * already there (a `forceFresh` read wants a value computed after it started).
 */
async function landedEntry(
  engine: StackEngine,
  key: string,
  since: number,
): Promise<{ value: unknown } | undefined> {
  const found = await engine.access.lookup(key)
  if (!found || engine.clock.now() >= found.freshUntil || found.entry.createdAt < since) return undefined
  return { value: found.entry.missing ? undefined : found.entry.value }
}

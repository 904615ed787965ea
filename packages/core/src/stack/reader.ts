import { FactoryError, FactoryTimeoutError } from '../errors.ts'
import type { CacheEntry } from '../layer.ts'
import type { Flight, Found, StackEngine } from './engine.ts'
import { type Factory, FactoryContextImpl, failureCause } from './factory.ts'
import {
  type ReadOptions,
  type ResolvedReadOptions,
  resolveEntryOptions,
  resolveReadOptions,
} from './options.ts'
import { type FlightLease, landedEntry } from './single-flight.ts'

/** Filled in by a read for the diagnostics channel. */
export interface ReadTrace {
  hit?: boolean
  stale?: boolean
  layer?: string
}

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

const NO_TIMEOUT = Symbol('no-timeout')

/** The full read path: layers, freshness windows, stampede protection, timeouts and grace. */
export async function readThrough(engine: StackEngine, request: ReadRequest): Promise<unknown> {
  engine.assertOpen()
  const { key, factory } = request
  const found = await engine.lookup(key)
  const now = engine.clock.now()
  const raw = request.options
  const forceFresh = raw?.forceFresh ?? engine.defaults.forceFresh
  if (found) {
    const { entry, freshUntil } = found
    if (now < freshUntil && !(forceFresh && factory)) {
      countHit(engine, request, found, false)
      if (factory) maybeRefreshAhead(engine, request, found, now)
      return valueOf(entry)
    }
    if (!factory) {
      countHit(engine, request, found, true)
      return valueOf(entry)
    }
    // A soft invalidation moves the stale point earlier; the SWR window keeps its length from there.
    if (now < freshUntil + (entry.swrUntil - entry.freshUntil) && !forceFresh) {
      countHit(engine, request, found, true)
      emitStale(engine, key, 'stale-while-revalidate')
      refreshInBackground(engine, request, entry)
      return valueOf(entry)
    }
  }
  if (!factory) {
    countMiss(engine, key)
    return undefined
  }
  const graced = found && now < found.entry.graceUntil ? found.entry : undefined
  if (graced && (engine.backoffUntil.get(key) ?? 0) > now) {
    countHit(engine, request, found!, true)
    emitStale(engine, key, 'backoff')
    return valueOf(graced)
  }
  countMiss(engine, key)
  return runForeground(engine, request, graced)
}

async function runForeground(
  engine: StackEngine,
  request: ReadRequest,
  graced: CacheEntry | undefined,
): Promise<unknown> {
  const { key } = request
  const options = resolveFor(engine, request.options)
  let flight = engine.flights.get(key)
  if (flight) {
    if (engine.emitter.has('stampede-dedupe')) engine.emitter.emit('stampede-dedupe', { key })
  } else {
    flight = startFlight(engine, request, options, graced, false)
  }
  const timers: NodeJS.Timeout[] = []
  try {
    let outcome: unknown = flight.promise
    if (graced && options.timeout !== undefined) {
      outcome = Promise.race([flight.promise, delay(options.timeout, timers)])
      const value = await outcome
      if (value !== NO_TIMEOUT) return value
      emitStale(engine, key, 'timeout')
      return valueOf(graced)
    }
    if (options.hardTimeout !== undefined) {
      const value = await Promise.race([flight.promise, delay(options.hardTimeout, timers)])
      if (value !== NO_TIMEOUT) return value
      const error = new FactoryTimeoutError(key, options.hardTimeout)
      flight.controller.abort(error)
      if (graced) {
        emitStale(engine, key, 'timeout')
        return valueOf(graced)
      }
      throw error
    }
    return await outcome
  } catch (error) {
    if (graced && error instanceof FactoryError) {
      if (options.graceBackoff > 0) engine.backoffUntil.set(key, engine.clock.now() + options.graceBackoff)
      engine.metrics.staleHits++
      emitStale(engine, key, 'error')
      return valueOf(graced)
    }
    throw error
  } finally {
    for (const timer of timers) clearTimeout(timer)
  }
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
  const controller = new AbortController()
  const flight: Flight = { promise: Promise.resolve(), invalidated: false, background, controller }
  const run = async (lease?: FlightLease): Promise<unknown> => {
    const context = new FactoryContextImpl<unknown>(request.userKey, graced, controller.signal)
    let value: unknown
    try {
      value = await factory(context)
    } catch (error) {
      throw new FactoryError(key, failureCause(error), background)
    }
    if (context.skipped) return value
    const resolved = context.overrides ? resolveEntryOptions(context.overrides, options) : options
    if (value === undefined) {
      if (options.negativeCache && !flight.invalidated && !engine.disconnected && (await holds(lease))) {
        const negative = { ...resolved, ttl: options.negativeTtl, layerTtls: undefined }
        await engine
          .write(key, namespace, null, negative, { missing: true })
          .catch((error) => reportWrite(engine, key, error))
      }
      return undefined
    }
    if (options.shouldCache && !options.shouldCache(value)) return value
    if (!flight.invalidated && !engine.disconnected && (await holds(lease))) {
      await engine.write(key, namespace, value, resolved).catch((error) => reportWrite(engine, key, error))
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
      })
    : run()
  flight.promise = work.finally(() => {
    if (engine.flights.get(key) === flight) engine.flights.delete(key)
  })
  // Waiters that gave up (soft timeout) or background runs must never surface an unhandled rejection.
  flight.promise.catch(() => {})
  engine.flights.set(key, flight)
  return flight
}

/** Without a shared lease there is nothing to check; with one, the write waits for its fence check. */
function holds(lease: FlightLease | undefined): boolean | Promise<boolean> {
  return lease === undefined || lease.confirm()
}

/** One background refresh per key; abandoned after `backgroundRefreshTimeout`. */
function refreshInBackground(engine: StackEngine, request: ReadRequest, stale: CacheEntry): void {
  const { key } = request
  if (engine.flights.has(key) || engine.disconnected) return
  if ((engine.backoffUntil.get(key) ?? 0) > engine.clock.now()) return
  const options = resolveFor(engine, request.options)
  const flight = startFlight(engine, request, options, stale, true)
  if (engine.emitter.has('refresh')) engine.emitter.emit('refresh', { key })
  const timer = setTimeout(() => {
    if (engine.flights.get(key) !== flight) return
    flight.invalidated = true
    engine.flights.delete(key)
    const error = new FactoryTimeoutError(key, engine.backgroundRefreshTimeout)
    flight.controller.abort(error)
    engine.emitter.emit('refresh-error', { key, error })
  }, engine.backgroundRefreshTimeout)
  timer.unref()
  flight.promise.then(
    () => clearTimeout(timer),
    (error) => {
      clearTimeout(timer)
      if (options.graceBackoff > 0) engine.backoffUntil.set(key, engine.clock.now() + options.graceBackoff)
      engine.emitter.emit('refresh-error', { key, error })
      engine.emitter.emit('error', { error, operation: 'refresh', key })
    },
  )
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

function countHit(engine: StackEngine, request: ReadRequest, found: Found, stale: boolean): void {
  const metrics = engine.metrics
  metrics.hits++
  if (stale) metrics.staleHits++
  const trace = request.trace
  if (trace) {
    trace.hit = true
    trace.stale = stale
    trace.layer = engine.layers[found.layer]!.name
  }
  if (engine.emitter.has('hit')) {
    engine.emitter.emit('hit', { key: request.key, layer: engine.layers[found.layer]!.name, stale })
  }
}

function countMiss(engine: StackEngine, key: string): void {
  engine.metrics.misses++
  if (engine.emitter.has('miss')) engine.emitter.emit('miss', { key })
}

function emitStale(
  engine: StackEngine,
  key: string,
  reason: 'stale-while-revalidate' | 'grace' | 'timeout' | 'error' | 'backoff',
): void {
  if (engine.emitter.has('stale-serve')) engine.emitter.emit('stale-serve', { key, reason })
}

function reportWrite(engine: StackEngine, key: string, error: unknown): void {
  engine.emitter.emit('error', { error, operation: 'set', key })
}

/** The value a caller sees: a cached "not found" reads as `undefined`. */
export function valueOf(entry: CacheEntry): unknown {
  return entry.missing ? undefined : entry.value
}

function delay(ms: number, timers: NodeJS.Timeout[]): Promise<typeof NO_TIMEOUT> {
  return new Promise((resolve) => {
    timers.push(setTimeout(() => resolve(NO_TIMEOUT), ms))
  })
}

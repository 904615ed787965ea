// Waiting for a flight: the graced value when its factory fails, and the soft and hard timeouts.
import { FactoryError, FactoryTimeoutError } from '../errors.ts'
import type { CacheEntry } from '../layer.ts'
import type { Flight, StackEngine } from './engine.ts'
import type { ResolvedReadOptions } from './options.ts'
import { type ReadTrace, serveStale } from './read-report.ts'

const NO_TIMEOUT = Symbol('no-timeout')

/** The flight's result, or the graced value when the factory failed. */
export async function awaitFlight(
  engine: StackEngine,
  key: string,
  flight: Flight,
  options: ResolvedReadOptions,
  graced: CacheEntry | undefined,
  trace: ReadTrace | undefined,
): Promise<unknown> {
  try {
    return await flight.promise
  } catch (error) {
    if (graced && error instanceof FactoryError) {
      if (options.graceBackoff > 0) engine.backoffUntil.set(key, engine.clock.now() + options.graceBackoff)
      return serveStale(engine, key, graced, 'error', trace)
    }
    throw error
  }
}

/** The flight raced against the soft (graced value served) and hard (factory aborted) timeouts. */
export async function withTimeouts(
  engine: StackEngine,
  request: { key: string; trace?: ReadTrace | undefined },
  flight: Flight,
  options: ResolvedReadOptions,
  graced: CacheEntry | undefined,
  soft: number | undefined,
  hard: number | undefined,
): Promise<unknown> {
  const { key, trace } = request
  const timers: NodeJS.Timeout[] = []
  try {
    const first = Math.min(soft ?? Number.POSITIVE_INFINITY, hard ?? Number.POSITIVE_INFINITY)
    const value = await Promise.race([
      awaitFlight(engine, key, flight, options, graced, trace),
      delay(first, timers),
    ])
    if (value !== NO_TIMEOUT) return value
    // Soft: the factory keeps running and stores its result for the next reader.
    if (graced && first === soft) return serveStale(engine, key, graced, 'timeout', trace)
    const error = new FactoryTimeoutError(key, hard!)
    flight.controller.abort(error)
    if (graced) return serveStale(engine, key, graced, 'timeout', trace)
    throw error
  } finally {
    for (const timer of timers) clearTimeout(timer)
  }
}

function delay(ms: number, timers: NodeJS.Timeout[]): Promise<typeof NO_TIMEOUT> {
  return new Promise((resolve) => {
    timers.push(setTimeout(() => resolve(NO_TIMEOUT), ms))
  })
}

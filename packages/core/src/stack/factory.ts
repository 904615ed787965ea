import { assertKnownOptions } from '../internal/known-options.ts'
import type { CacheEntry } from '../layer.ts'
import type { LazyAbort } from './lazy-abort.ts'
import { ENTRY_OPTION_NAMES, type EntryOptions } from './options.ts'

/** The stale entry a factory can fall back on, as handed to `ctx.gracedEntry`. */
export interface GracedEntry<T> {
  value: T
  createdAt: number
  freshUntil: number
  tags: readonly string[]
}

/** What a factory receives. */
export interface FactoryContext<T = unknown> {
  /** The key being computed (without namespace). */
  readonly key: string
  /** The stale entry, whenever one exists (background refreshes included). */
  readonly gracedEntry: GracedEntry<T> | undefined
  /** Fires on hard timeout and on `disconnect()`. */
  readonly signal: AbortSignal
  /** True for a background refresh (stale-while-revalidate, refresh-ahead): nobody waits on this run. */
  readonly isBackground: boolean
  /** Changes how the result is stored: `ttl`, `grace`, `staleWhileRevalidate`, `tags`... */
  setOptions(options: EntryOptions): void
  /** Replaces the tags the result is stored with. */
  setTags(tags: readonly string[]): void
  /** Returns `value` to the caller without caching it. Use as `return ctx.skip(value)`. */
  skip<V = undefined>(value?: V): V
  /** Treats this call as a failed factory (a stale value within grace is served). Use as `return ctx.fail(reason)`. */
  fail(reason?: unknown): never
}

/**
 * A factory (fetcher): computes the value on a miss. `G` types `ctx.gracedEntry`; it defaults to `T`
 * but is a separate parameter so that `getOrSet('k', async (ctx) => 1)` still infers `T` from the
 * returned value (a context typed by `T` itself would fix `T` to `unknown` before the body is read).
 */
export type Factory<T, G = T> = (context: FactoryContext<G>) => T | Promise<T>

/**
 * A value `set` can store: anything but `undefined` (a miss reads as `undefined`, so it cannot be
 * stored). `number | undefined` narrows to `number`, so a maybe-undefined value fails to compile;
 * `unknown` stays accepted (checked at run time).
 */
export type Storable<T> = T extends undefined ? never : T

const FAILED = Symbol('cachestack.factory-failed')

/** Thrown by `ctx.fail()`; unwrapped into a `FactoryError` whose cause is the given reason. */
export class FactoryFailure {
  readonly [FAILED] = true
  readonly reason: unknown
  constructor(reason: unknown) {
    this.reason = reason
  }
}

/** The context object; the stack reads back what the factory asked for. */
export class FactoryContextImpl<T> implements FactoryContext<T> {
  readonly key: string
  readonly gracedEntry: GracedEntry<T> | undefined
  readonly isBackground: boolean
  skipped = false
  overrides: EntryOptions | undefined
  readonly #abort: LazyAbort

  constructor(key: string, graced: CacheEntry | undefined, abort: LazyAbort, isBackground = false) {
    this.key = key
    this.#abort = abort
    this.isBackground = isBackground
    this.gracedEntry =
      graced && !graced.missing
        ? {
            value: graced.value as T,
            createdAt: Math.floor(graced.createdAt),
            freshUntil: graced.freshUntil,
            tags: graced.tags ?? [],
          }
        : undefined
  }

  /** Fires on hard timeout and on `disconnect()`; made when first read (most factories never do). */
  get signal(): AbortSignal {
    return this.#abort.signal
  }

  setOptions(options: EntryOptions): void {
    assertKnownOptions(options, ENTRY_OPTION_NAMES, 'an option of ctx.setOptions()')
    this.overrides = { ...this.overrides, ...options }
  }

  setTags(tags: readonly string[]): void {
    this.setOptions({ tags })
  }

  skip<V = undefined>(value?: V): V {
    this.skipped = true
    return value as V
  }

  fail(reason: unknown = new Error('factory failed')): never {
    throw new FactoryFailure(reason)
  }
}

/** Unwraps `ctx.fail()` into its reason. */
export function failureCause(error: unknown): unknown {
  return error instanceof FactoryFailure ? error.reason : error
}

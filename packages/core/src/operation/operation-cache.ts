import { FactoryError, ValidationError } from '../errors.ts'
import { assertKnownOptions, joinNames } from '../internal/known-options.ts'
import type { FactoryContext } from '../stack/factory.ts'
import { READ_OPTION_NAMES, type ReadOptions } from '../stack/options.ts'
import { READ_TRACE, type ReadTrace } from '../stack/read-report.ts'
import { operationKey, sessionSuffix } from './operation-key.ts'

/**
 * What an operation cache needs from a cache: a `CacheStack` or one of its namespaces. Structural, so
 * that the operation cache depends on the stack's public contract only.
 */
export interface OperationStore {
  getOrSet<T>(
    key: string,
    factory: (ctx: FactoryContext<T>) => T | Promise<T>,
    options?: ReadOptions,
  ): Promise<T | undefined>
  invalidateByTags(tags: string[]): Promise<unknown>
}

/** How a call was served: from a fresh entry, by running the operation, from a stale entry, or uncached. */
export type OperationState = 'hit' | 'miss' | 'stale' | 'bypass'

/** Why a call was not cached: the `bypass` option said so, or a private operation found no session. */
export type OperationBypassReason = 'bypass' | 'no-session'

/** Tags computed from an operation's result and its call. */
export type OperationTags<Args extends readonly unknown[], Ctx, T> =
  | readonly string[]
  | ((result: T, args: Args, context: Ctx) => readonly string[])

/** One call's answer from `OperationCache.query`. */
export interface OperationResult<T> {
  /** The operation's result. */
  readonly value: T
  /** How it was served. */
  readonly state: OperationState
  /** The cache key of the call (`undefined` when bypassed). */
  readonly key: string | undefined
  /** Set when `state` is `'bypass'`. */
  readonly reason?: OperationBypassReason | undefined
}

/**
 * Options of an operation cache; every `getOrSet` option (`ttl`, `staleWhileRevalidate`, `grace`,
 * `timeout`...) is handed to the stack as is.
 */
export interface OperationCacheOptions<
  Args extends readonly unknown[] = unknown[],
  Ctx = unknown,
  T = unknown,
> extends Omit<ReadOptions, 'tags'> {
  /** The stack (or a namespace of one) results are stored in. */
  cache: OperationStore
  /** The operation's name, the first part of every key (`'user.byId'`, `'Query.product'`). */
  name: string
  /**
   * The whole key of a call, in place of `name` + canonical arguments (a private call still gets its
   * session hash appended). @default `name:` + the canonical arguments
   */
  key?: (args: Args, context: Ctx) => string
  /** `'private'` keys each entry by a hash of the caller's session (needs `session`). @default 'public' */
  scope?: 'public' | 'private'
  /** Resolves the caller's session for `scope: 'private'`; an empty answer runs the call uncached. */
  session?: (context: Ctx) => string | null | undefined | Promise<string | null | undefined>
  /** Tags stored with a result: a list, or computed from the result and the call. */
  tags?: OperationTags<Args, Ctx, T>
  /** Tags invalidated after `mutate` succeeds: a list, or computed from the result and the call. */
  invalidates?: OperationTags<Args, Ctx, T>
  /** Lets a call skip the cache (neither read nor written). */
  bypass?: (args: Args, context: Ctx) => boolean
}

const BYPASSED = Object.freeze({ reason: 'bypass' as const })
const NO_SESSION = Object.freeze({ reason: 'no-session' as const })
const OWN_OPTIONS = new Set(['cache', 'name', 'key', 'scope', 'session', 'tags', 'invalidates', 'bypass'])
const KNOWN_OPTIONS = joinNames(OWN_OPTIONS, READ_OPTION_NAMES)

/**
 * A protocol-neutral cache for named operations called with arguments (a wrapped function, a tRPC
 * procedure, a GraphQL resolver, a NestJS handler, an HTTP route): canonical keys, public or private
 * scope, tags from the result, invalidation after a mutation, coalesced misses and the serve state.
 * Protocol adapters add only what is theirs (request key parts, headers, policy).
 */
export class OperationCache<Args extends readonly unknown[] = unknown[], Ctx = unknown, T = unknown> {
  /** The operation's name. */
  readonly name: string
  /** `'public'` or `'private'`. */
  readonly scope: 'public' | 'private'
  readonly #cache: OperationStore
  readonly #session: OperationCacheOptions<Args, Ctx, T>['session']
  readonly #key: OperationCacheOptions<Args, Ctx, T>['key']
  readonly #tags: ((result: T, args: Args, context: Ctx) => readonly string[]) | undefined
  readonly #invalidates: OperationTags<Args, Ctx, T> | undefined
  readonly #bypass: OperationCacheOptions<Args, Ctx, T>['bypass']
  readonly #read: ReadOptions | undefined

  /**
   * `caller` names the adapter function in the error an unknown option raises (`'cacheMiddleware()'`:
   * "... is not an option of cacheMiddleware()"), so its users read their own API's name.
   */
  constructor(options: OperationCacheOptions<Args, Ctx, T>, caller?: string) {
    if (!options || typeof options !== 'object')
      throw new ValidationError('options must be an object', 'options')
    assertKnownOptions(options, KNOWN_OPTIONS, caller ? `an option of ${caller}` : 'an OperationCache option')
    const { cache, name, key, scope = 'public', session, tags, invalidates, bypass } = options
    if (!cache || typeof cache.getOrSet !== 'function' || typeof cache.invalidateByTags !== 'function') {
      throw new ValidationError('"cache" must be a CacheStack or a namespace of one', 'cache')
    }
    if (typeof name !== 'string' || name === '')
      throw new ValidationError('"name" must be a non-empty string', 'name')
    if (scope !== 'public' && scope !== 'private') {
      throw new ValidationError(`"scope" must be 'public' or 'private'; got ${String(scope)}`, 'scope')
    }
    assertFunction(key, 'key')
    assertFunction(session, 'session')
    assertFunction(bypass, 'bypass')
    if (scope === 'private' && session === undefined) {
      throw new ValidationError(`"scope: 'private'" needs a "session" resolver`, 'session')
    }
    assertTags(tags, 'tags')
    assertTags(invalidates, 'invalidates')
    this.name = name
    this.scope = scope
    this.#cache = cache
    this.#session = session
    this.#key = key
    this.#invalidates = invalidates
    this.#bypass = bypass
    const read: Record<string, unknown> = {}
    let any = false
    for (const [option, value] of Object.entries(options)) {
      if (OWN_OPTIONS.has(option)) continue
      read[option] = value
      any = true
    }
    // A fixed tag list is stored like any `getOrSet` tag; only computed tags need the result first.
    if (typeof tags === 'function') this.#tags = tags
    else if (tags !== undefined) {
      read.tags = tags
      any = true
    }
    this.#read = any ? (read as ReadOptions) : undefined
  }

  /** The key of a call, or `undefined` when the call is not cached (bypassed, or private without a session). */
  async keyOf(args: Args, context: Ctx): Promise<string | undefined> {
    const resolved = await this.#resolve(args, context)
    return typeof resolved === 'string' ? resolved : undefined
  }

  /**
   * Serves one call: a fresh or stale entry, a share of a concurrent caller's run, or a run of `fn`
   * whose result is stored. Rejects with `fn`'s own error when it fails with nothing stale to serve.
   */
  async query(
    args: Args,
    context: Ctx,
    fn: (ctx: FactoryContext<T>) => T | Promise<T>,
  ): Promise<OperationResult<T>> {
    const key = await this.#resolve(args, context)
    if (typeof key !== 'string')
      return { value: await fn(noCacheContext()), state: 'bypass', key: undefined, reason: key.reason }
    const trace: ReadTrace = {}
    const run = { started: false, done: false, error: undefined as unknown }
    const factory = async (ctx: FactoryContext<T>): Promise<T> => {
      const own = !ctx.isBackground
      if (own) run.started = true
      try {
        const value = await fn(ctx)
        if (this.#tags !== undefined) ctx.setOptions({ tags: tagList(this.#tags(value, args, context)) })
        if (own) run.done = true
        return value
      } catch (error) {
        if (own) run.error = error
        throw error
      }
    }
    let value: T
    try {
      value = (await this.#cache.getOrSet(key, factory, this.#readOptions(trace))) as T
    } catch (error) {
      // The caller sees what its operation threw, not the stack's wrapper.
      if (error instanceof FactoryError && run.error !== undefined && error.cause === run.error)
        throw run.error
      throw error
    }
    return { value, state: stateOf(trace, run), key }
  }

  /** `query` without the serve state: the value alone, one object fewer per call (`CacheStack.wrap`). */
  async value(args: Args, context: Ctx, fn: (ctx: FactoryContext<T>) => T | Promise<T>): Promise<T> {
    const key =
      this.#session === undefined && this.#bypass === undefined
        ? this.#publicKey(args, context)
        : await this.#resolve(args, context)
    if (typeof key !== 'string') return fn(noCacheContext())
    const tags = this.#tags
    const factory =
      tags === undefined
        ? fn
        : async (ctx: FactoryContext<T>) => {
            const value = await fn(ctx)
            ctx.setOptions({ tags: tagList(tags(value, args, context)) })
            return value
          }
    return (await this.#cache.getOrSet(key, factory, this.#read)) as T
  }

  /**
   * Runs a mutation, then invalidates `invalidates` before resolving, so the caller reads its own write.
   * A failed mutation invalidates nothing; a failed invalidation is a process warning, never the
   * caller's error, since the mutation itself succeeded.
   */
  async mutate(args: Args, context: Ctx, fn: () => T | Promise<T>): Promise<T> {
    const value = await fn()
    if (this.#invalidates !== undefined) {
      await invalidateQuietly(this.#cache, resolveTags(this.#invalidates, value, args, context))
    }
    return value
  }

  #publicKey(args: Args, context: Ctx): string {
    return this.#key === undefined ? operationKey(this.name, args) : this.#key(args, context)
  }

  async #resolve(args: Args, context: Ctx): Promise<string | { reason: OperationBypassReason }> {
    if (this.#bypass?.(args, context) === true) return BYPASSED
    if (this.scope === 'public') return this.#publicKey(args, context)
    const session = await this.#session?.(context)
    if (typeof session !== 'string' || session === '') return NO_SESSION
    if (this.#key !== undefined) return this.#key(args, context) + sessionSuffix(session)
    return operationKey(this.name, args, session)
  }

  #readOptions(trace: ReadTrace): ReadOptions {
    return { ...this.#read, [READ_TRACE]: trace } as ReadOptions
  }
}

/** Resolves tags from an option; drops anything but non-empty strings. */
export function resolveTags<Args extends readonly unknown[], Ctx, T>(
  option: OperationTags<Args, Ctx, T>,
  result: T,
  args: Args,
  context: Ctx,
): string[] {
  return tagList(typeof option === 'function' ? option(result, args, context) : option)
}

/**
 * Invalidates tags after a successful mutation; a failure is reported as a process warning, never thrown,
 * because the mutation it follows already succeeded.
 */
export async function invalidateQuietly(
  cache: Pick<OperationStore, 'invalidateByTags'>,
  tags: string[],
): Promise<void> {
  if (tags.length === 0) return
  try {
    await cache.invalidateByTags(tags)
  } catch (error) {
    process.emitWarning(`cachestack: invalidating ${tags.join(', ')} failed: ${String(error)}`)
  }
}

/** Keeps the non-empty strings of a tag list (a computed list may hold anything). */
export function tagList(tags: readonly string[]): string[] {
  return [...tags].filter((tag) => typeof tag === 'string' && tag !== '')
}

function stateOf(trace: ReadTrace, run: { started: boolean; done: boolean; error: unknown }): OperationState {
  if (trace.hit === true) return trace.stale === true ? 'stale' : 'hit'
  // Our own run answered, or it failed / timed out and the stack served the stale entry instead.
  if (run.started) return run.done ? 'miss' : 'stale'
  // No layer hit and no run of ours: a fresh memory hit on the fast path, or a share of another caller's run.
  return 'hit'
}

function noCacheContext<T>(): FactoryContext<T> {
  return {
    key: '',
    gracedEntry: undefined,
    signal: new AbortController().signal,
    isBackground: false,
    setOptions() {},
    setTags() {},
    skip: <V>(value?: V) => value as V,
    fail(reason?: unknown): never {
      throw reason ?? new Error('operation failed')
    },
  }
}

function assertFunction(value: unknown, option: string): void {
  if (value !== undefined && typeof value !== 'function')
    throw new ValidationError(`"${option}" must be a function`, option)
}

function assertTags(value: unknown, option: string): void {
  if (value === undefined || typeof value === 'function') return
  if (!Array.isArray(value) || !value.every((tag) => typeof tag === 'string' && tag !== '')) {
    throw new ValidationError(`"${option}" must be an array of non-empty strings or a function`, option)
  }
}

import {
  type Duration,
  OperationCache,
  type OperationCacheOptions,
  type OperationState,
  type OperationStore,
  parseDuration,
  publishServeStatus,
  type ReadOptions,
  ValidationError,
} from '@cachestack/core'
import type { TRPCMiddlewareFunction } from '@trpc/server'
import { recordCall } from './call-records.ts'
import { assertOptionalFunction, assertOptionsObject } from './options.ts'
import { configurationError, toTRPCError } from './trpc-error.ts'

/** Options of `cacheMiddleware`; every other `getOrSet` option (`timeout`, `hardTimeout`...) is passed to the stack. */
export interface CacheMiddlewareOptions<TContext = any, TInput = any, TOutput = any>
  extends Omit<ReadOptions, 'tags'> {
  /** The stack (or a namespace of one) results are stored in. */
  cache: OperationStore
  /** Tags stored with a result: a list, or computed from the call and its result. */
  tags?:
    | readonly string[]
    | ((input: TInput, result: TOutput, ctx: TContext) => readonly string[])
    | undefined
  /** `'private'` keys each entry by a hash of `session(ctx)`; without a session the call runs uncached. @default 'public' */
  scope?: 'public' | 'private' | undefined
  /** The caller's session (user id, session id) for `scope: 'private'`. */
  session?: ((ctx: TContext) => string | null | undefined | Promise<string | null | undefined>) | undefined
  /**
   * What identifies a call instead of its whole input (the procedure path and the scope are always part
   * of the key). @default the parsed input
   */
  key?: ((input: TInput, ctx: TContext) => unknown) | undefined
  /** Lets a call skip the cache (neither read nor written; its answer is never shared). */
  bypass?: ((input: TInput, ctx: TContext) => boolean) | undefined
}

/** Key prefix of procedure entries, so they never meet `wrap()` or resolver entries of the same stack. */
export const PROCEDURE_KEY_PREFIX = 'trpc:'

type Context = { input: unknown; ctx: unknown }
type Args = [input: unknown]

/**
 * A tRPC middleware caching a query procedure's result: key = procedure path + canonical input + scope;
 * concurrent identical calls run the resolver once; only successful results are stored (a thrown
 * `TRPCError` never is). On a mutation or subscription it throws a configuration error and the
 * resolver does not run. Place it after `.input()`.
 */
export function cacheMiddleware<TContext = any, TInput = any, TOutput = any>(
  options: CacheMiddlewareOptions<TContext, TInput, TOutput>,
): TRPCMiddlewareFunction<TContext, any, object, object, TInput> {
  assertOptionsObject(options, 'cacheMiddleware()')
  const { key, bypass, tags, session, ...rest } = options
  for (const refused of ['name', 'invalidates'] as const) {
    if (refused in options)
      throw new ValidationError(`"${refused}" is not an option of cacheMiddleware()`, refused)
  }
  assertOptionalFunction(key, 'key')
  const coreOptions: Omit<OperationCacheOptions<Args, Context, unknown>, 'name'> = { ...rest }
  if (typeof tags === 'function') {
    coreOptions.tags = (result, args, c) => tags(args[0] as TInput, result as TOutput, c.ctx as TContext)
  } else if (tags !== undefined) coreOptions.tags = tags
  if (bypass !== undefined) coreOptions.bypass = (_args, c) => bypass(c.input as TInput, c.ctx as TContext)
  if (session !== undefined) coreOptions.session = (c) => session(c.ctx as TContext)
  // Validates every option now, at startup, rather than at the first call.
  new OperationCache<Args, Context, unknown>(
    { ...coreOptions, name: PROCEDURE_KEY_PREFIX },
    'cacheMiddleware()',
  )
  const maxAge = maxAgeOf(options.ttl)
  const byPath = new Map<string, OperationCache<Args, Context, unknown>>()
  const forPath = (path: string) => {
    let op = byPath.get(path)
    if (op === undefined) {
      op = new OperationCache<Args, Context, unknown>(
        { ...coreOptions, name: PROCEDURE_KEY_PREFIX + path },
        'cacheMiddleware()',
      )
      byPath.set(path, op)
    }
    return op
  }

  return async (opts) => {
    if (opts.type !== 'query') {
      throw configurationError(
        `cacheMiddleware() caches query procedures only; "${opts.path}" is a ${opts.type}`,
        'type',
      )
    }
    // Placed before `.input()`, the parsed input is not there yet: the raw input still tells calls apart.
    const input = opts.input === undefined ? await opts.getRawInput() : opts.input
    const call: Context = { input, ctx: opts.ctx }
    const identity = key === undefined ? input : key(input as TInput, opts.ctx as TContext)
    let state: OperationState
    let value: unknown
    try {
      const result = await forPath(opts.path).query([identity], call, async () => {
        const answer = await opts.next()
        // tRPC reports a failed resolver as a result, not a throw; throwing keeps it out of the cache.
        if (!answer.ok) throw answer.error
        return answer.data
      })
      state = result.state
      value = result.value
      // cache.status on the call's active span (@cachestack/otel), still in the procedure's async context.
      publishServeStatus(state, 'trpc', result.reason)
    } catch (error) {
      recordCall(opts.getRawInput, { shareable: false, maxAge })
      throw toTRPCError(error)
    }
    const shareable = options.scope !== 'private' && (state === 'hit' || state === 'miss')
    recordCall(opts.getRawInput, { shareable, maxAge })
    // tRPC never checks the marker at run time; it exists so that a middleware cannot forget to return
    // next()'s result. A hit must answer without calling next(), so it builds the result itself.
    return { ok: true as const, data: value, marker: 'middlewareMarker' as never }
  }
}

function maxAgeOf(ttl: ReadOptions['ttl']): number | undefined {
  if (ttl === undefined) return undefined
  const durations: Duration[] = typeof ttl === 'object' ? Object.values(ttl) : [ttl]
  if (durations.length === 0) return undefined
  // Per-layer TTLs: the shortest one is how long any layer keeps the answer fresh.
  return Math.floor(Math.min(...durations.map((d) => parseDuration(d, 'ttl'))) / 1000)
}

import { invalidateQuietly, type OperationStore, tagList, ValidationError } from '@cachestack/core'
import type { TRPCMiddlewareFunction } from '@trpc/server'
import { assertOptionsObject } from './options.ts'
import { configurationError } from './trpc-error.ts'

/** Options of `invalidateMiddleware`. */
export interface InvalidateMiddlewareOptions<TContext = any, TInput = any, TOutput = any> {
  /** The stack (or a namespace of one) whose entries are invalidated. */
  cache: Pick<OperationStore, 'invalidateByTags'>
  /** Tags invalidated after the mutation succeeded: a list, or computed from the call and its result. */
  tags: readonly string[] | ((input: TInput, result: TOutput, ctx: TContext) => readonly string[])
}

const KNOWN = new Set(['cache', 'tags'])

/**
 * A tRPC middleware for mutation procedures: once the resolver succeeded, invalidates `tags` before the
 * answer leaves, so the caller's next query reads its own write. A failed mutation invalidates nothing;
 * a failed invalidation is a process warning, never the caller's error.
 */
export function invalidateMiddleware<TContext = any, TInput = any, TOutput = any>(
  options: InvalidateMiddlewareOptions<TContext, TInput, TOutput>,
): TRPCMiddlewareFunction<TContext, any, object, object, TInput> {
  assertOptionsObject(options, 'invalidateMiddleware()')
  for (const name of Object.keys(options)) {
    if (!KNOWN.has(name))
      throw new ValidationError(
        `"${name}" is not an option of invalidateMiddleware() (known: cache, tags)`,
        name,
      )
  }
  const { cache, tags } = options
  if (!cache || typeof cache.invalidateByTags !== 'function') {
    throw new ValidationError('"cache" must be a CacheStack or a namespace of one', 'cache')
  }
  const validList = Array.isArray(tags) && tags.every((tag) => typeof tag === 'string' && tag !== '')
  if (typeof tags !== 'function' && !validList) {
    throw new ValidationError('"tags" must be an array of non-empty strings or a function', 'tags')
  }
  const computeTags = (input: unknown, result: unknown, ctx: unknown) =>
    typeof tags === 'function' ? tags(input as TInput, result as TOutput, ctx as TContext) : tags

  return async (opts) => {
    if (opts.type !== 'mutation') {
      throw configurationError(
        `invalidateMiddleware() belongs on mutation procedures; "${opts.path}" is a ${opts.type}`,
        'type',
      )
    }
    const answer = await opts.next()
    if (answer.ok) {
      const input = opts.input === undefined ? await opts.getRawInput() : opts.input
      await invalidateQuietly(cache, tagList(computeTags(input, answer.data, opts.ctx)))
    }
    return answer
  }
}

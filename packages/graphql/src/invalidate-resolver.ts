import { invalidateQuietly, type OperationStore, tagList, ValidationError } from '@cachestack/core'
import type { FieldResolver } from './resolver-types.ts'
import { typeTags } from './type-tags.ts'

/** Options of `invalidateResolver`. */
export interface InvalidateResolverOptions<TArgs = any, TContext = any, TResult = any> {
  /** The stack (or a namespace of one) whose entries are invalidated. */
  cache: Pick<OperationStore, 'invalidateByTags'>
  /** Tags invalidated after success besides the type tags: a list, or computed from the result. */
  tags?:
    | readonly string[]
    | ((result: TResult, args: TArgs, context: TContext) => readonly string[])
    | undefined
  /** Also invalidates the tags derived from the return type (`Post:list`, `Post:1`). @default true */
  typeTags?: boolean | undefined
}

const KNOWN = new Set(['cache', 'tags', 'typeTags'])

/**
 * Wraps a mutation resolver: once it succeeded, invalidates its tags before the answer leaves — by
 * default `Post:list` and `Post:<id>` for a mutation returning a `Post`, so a creation purges every
 * cached list that should now contain it. A failed mutation invalidates nothing.
 */
export function invalidateResolver<TParent = any, TArgs = any, TContext = any, TResult = any>(
  resolver: FieldResolver<TParent, TArgs, TContext, TResult>,
  options: InvalidateResolverOptions<TArgs, TContext, TResult>,
): FieldResolver<TParent, TArgs, TContext, TResult> {
  if (typeof resolver !== 'function')
    throw new ValidationError('invalidateResolver() wraps a resolver function', 'resolver')
  if (!options || typeof options !== 'object')
    throw new ValidationError('invalidateResolver() takes an options object', 'options')
  for (const name of Object.keys(options)) {
    if (!KNOWN.has(name))
      throw new ValidationError(
        `"${name}" is not an option of invalidateResolver() (known: cache, tags, typeTags)`,
        name,
      )
  }
  const { cache, tags, typeTags: withTypeTags = true } = options
  if (!cache || typeof cache.invalidateByTags !== 'function') {
    throw new ValidationError('"cache" must be a CacheStack or a namespace of one', 'cache')
  }
  if (tags !== undefined && typeof tags !== 'function' && !Array.isArray(tags)) {
    throw new ValidationError('"tags" must be an array of non-empty strings or a function', 'tags')
  }
  return async (parent, args, context, info) => {
    const result = await resolver(parent, args, context, info)
    const extra = typeof tags === 'function' ? tags(result, args, context) : (tags ?? [])
    const all = [...(withTypeTags ? typeTags(info.returnType, result, 'invalidate') : []), ...extra]
    await invalidateQuietly(cache, tagList(all))
    return result
  }
}

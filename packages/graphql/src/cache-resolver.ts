import {
  FactoryError,
  type OperationCache,
  OperationCache as OperationCacheClass,
  type OperationCacheOptions,
  type OperationStore,
  publishServeStatus,
  type ReadOptions,
  ValidationError,
} from '@cachestack/core'
import type { GraphQLResolveInfo } from 'graphql'
import { toPlainData } from './plain-data.ts'
import type { FieldResolver, ResolverCall } from './resolver-types.ts'
import { typeTags } from './type-tags.ts'

/** Options of `cacheResolver`; every other `getOrSet` option (`timeout`, `hardTimeout`...) is passed to the stack. */
export interface CacheResolverOptions<TParent = any, TArgs = any, TContext = any, TResult = any>
  extends Omit<ReadOptions, 'tags'> {
  /** The stack (or a namespace of one) results are stored in. */
  cache: OperationStore
  /**
   * What identifies a call (the `Type.field` name and the scope are always part of the key).
   * @default the arguments for a root field; `{ id: parent.id, args }` for a nested one
   */
  key?: ((parent: TParent, args: TArgs, context: TContext, info: GraphQLResolveInfo) => unknown) | undefined
  /** Tags stored with a result besides the type tags: a list, or computed from the result. */
  tags?:
    | readonly string[]
    | ((result: TResult, args: TArgs, context: TContext) => readonly string[])
    | undefined
  /** Adds the tags derived from the return type (`Post:list`, `Post:1`). @default true */
  typeTags?: boolean | undefined
  /** `'private'` keys each entry by a hash of `session(context)`; without a session the call runs uncached. @default 'public' */
  scope?: 'public' | 'private' | undefined
  /** The caller's session (user id) for `scope: 'private'`. */
  session?:
    | ((context: TContext) => string | null | undefined | Promise<string | null | undefined>)
    | undefined
  /** Lets a call skip the cache (neither read nor written). */
  bypass?: ((parent: TParent, args: TArgs, context: TContext) => boolean) | undefined
}

/** Key prefix of resolver entries, so they never meet `wrap()` or procedure entries of the same stack. */
export const RESOLVER_KEY_PREFIX = 'gql:'

type Call = ResolverCall<any, any, any>
type Args = [identity: unknown]

/**
 * Wraps a field resolver (root or nested, e.g. `Post.author`) so its result is cached: key =
 * `Type.field` + the canonical key + scope; concurrent identical calls run it once; a resolver that
 * throws is not cached; results are stored as plain data, so a hit returns what the miss returned.
 */
export function cacheResolver<TParent = any, TArgs = any, TContext = any, TResult = any>(
  resolver: FieldResolver<TParent, TArgs, TContext, TResult>,
  options: CacheResolverOptions<TParent, TArgs, TContext, TResult>,
): FieldResolver<TParent, TArgs, TContext, TResult> {
  if (typeof resolver !== 'function')
    throw new ValidationError('cacheResolver() wraps a resolver function', 'resolver')
  if (!options || typeof options !== 'object')
    throw new ValidationError('cacheResolver() takes an options object', 'options')
  const { key, tags, typeTags: withTypeTags = true, session, bypass, ...rest } = options
  for (const refused of ['name', 'invalidates']) {
    if (refused in options)
      throw new ValidationError(`"${refused}" is not an option of cacheResolver()`, refused)
  }
  if (key !== undefined && typeof key !== 'function')
    throw new ValidationError('"key" must be a function', 'key')
  if (typeof withTypeTags !== 'boolean') throw new ValidationError('"typeTags" must be a boolean', 'typeTags')
  if (tags !== undefined && typeof tags !== 'function' && !Array.isArray(tags)) {
    throw new ValidationError('"tags" must be an array of non-empty strings or a function', 'tags')
  }
  const coreOptions: Omit<OperationCacheOptions<Args, Call, unknown>, 'name'> = { ...rest }
  if (withTypeTags || typeof tags === 'function') {
    coreOptions.tags = (result, _args, call) => [
      ...(withTypeTags ? typeTags(call.info.returnType, result) : []),
      ...(typeof tags === 'function' ? tags(result as TResult, call.args, call.context) : (tags ?? [])),
    ]
  } else if (tags !== undefined) coreOptions.tags = tags
  if (session !== undefined) coreOptions.session = (call) => session(call.context)
  if (bypass !== undefined) coreOptions.bypass = (_args, call) => bypass(call.parent, call.args, call.context)
  // Validates every option now, at startup, rather than at the first call.
  new OperationCacheClass({ ...coreOptions, name: RESOLVER_KEY_PREFIX }, 'cacheResolver()')
  // Per parent type and field name: built at a field's first call, looked up on every later one.
  const byField = new Map<object, Map<string, FieldCache>>()

  return async (parent, args, context, info) => {
    let fields = byField.get(info.parentType)
    if (fields === undefined) byField.set(info.parentType, (fields = new Map()))
    let entry = fields.get(info.fieldName)
    if (entry === undefined) {
      const field = `${info.parentType.name}.${info.fieldName}`
      const op = new OperationCacheClass(
        { ...coreOptions, name: RESOLVER_KEY_PREFIX + field },
        'cacheResolver()',
      )
      entry = { field, op, root: isRootType(info) }
      fields.set(info.fieldName, entry)
    }
    const { field, op } = entry
    const identity =
      key === undefined ? defaultIdentity(parent, args, entry.root, field) : key(parent, args, context, info)
    try {
      const result = await op.query([identity], { parent, args, context, info }, async () =>
        toPlainData(await resolver(parent, args, context, info), `resolver ${field}`),
      )
      // cache.status on the active span of this field's resolution (@cachestack/otel): a resolver span
      // where GraphQL instrumentation makes one, else the request's span (then the last field sets it).
      publishServeStatus(result.state, 'graphql', result.reason)
      return result.value as TResult
    } catch (error) {
      // A caller that joined another caller's run gets the stack's wrapper; the resolver's error is inside.
      throw error instanceof FactoryError && error.cause !== undefined ? error.cause : error
    }
  }
}

interface FieldCache {
  field: string
  op: OperationCache<Args, Call, unknown>
  /** The field belongs to the query or mutation type: its default identity is its arguments. */
  root: boolean
}

function isRootType(info: GraphQLResolveInfo): boolean {
  return [info.schema.getQueryType(), info.schema.getMutationType()].includes(info.parentType as never)
}

function defaultIdentity(parent: unknown, args: unknown, root: boolean, field: string): unknown {
  if (root) return args
  const id = (parent as { id?: unknown } | null)?.id
  if (typeof id === 'string' || typeof id === 'number') return { id, args }
  // Without an id, two parents could share one entry: refuse instead of guessing.
  throw new ValidationError(`cacheResolver() on ${field} needs a "key": its parent has no id`, 'key')
}

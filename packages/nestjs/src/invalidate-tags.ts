import { ValidationError } from '@cachestack/core'
import { settle } from './cacheable.ts'
import { answersNon2xx, replaceMethod } from './method-wrapper.ts'
import { operationsFor } from './operation-for.ts'
import { stackFor } from './stack-registry.ts'

/** Tags computed from a method's result and arguments. */
export type TagsResolver = (result: never, ...args: never[]) => readonly string[]

/**
 * Invalidates tags once the method succeeded (core's `OperationCache.mutate`), before its result is handed
 * on: on a controller handler, the invalidation completes before the response reaches the client, so the
 * client reads its own write. A throw (an `HttpException` included), or a `@Res({ passthrough: true })`
 * status outside 2xx, invalidates nothing. A failed invalidation is a warning: the mutation succeeded.
 */
export function InvalidateTags(...tags: [TagsResolver] | string[]): MethodDecorator {
  const resolver =
    tags.length === 1 && typeof tags[0] === 'function'
      ? (tags[0] as (result: unknown, ...args: unknown[]) => readonly string[])
      : undefined
  if (!resolver && (tags.length === 0 || !tags.every((tag) => typeof tag === 'string' && tag !== ''))) {
    throw new ValidationError(
      '@InvalidateTags() takes non-empty tag strings or one (result, ...args) => tags function',
      'tags',
    )
  }
  const fixed = tags as string[]
  return (target, propertyKey, descriptor) =>
    replaceMethod(target, propertyKey, descriptor, 'InvalidateTags', (original, label) => {
      const operations = operationsFor<unknown[], unknown>((cache) => ({
        cache,
        name: label,
        invalidates: (result, args) => {
          if (answersNon2xx(args)) return []
          return resolver ? resolver(result, ...args) : fixed
        },
      }))
      return async function invalidating(this: unknown, ...args: unknown[]) {
        const cache = stackFor(this)
        const run = () => settle(original.apply(this, args))
        return cache ? operations(cache).mutate(args, undefined, run) : run()
      }
    }) as never
}

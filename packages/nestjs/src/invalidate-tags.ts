import { ValidationError } from '@cachestack/core'
import { settle } from './cacheable.ts'
import { answersNon2xx, replaceMethod } from './method-wrapper.ts'
import { stackFor } from './stack-registry.ts'

/** Tags computed from a method's result and arguments. */
export type TagsResolver = (result: never, ...args: never[]) => readonly string[]

/**
 * Invalidates tags once the method succeeded, before its result is handed on: on a controller handler,
 * the invalidation completes before the response reaches the client, so the client reads its own write.
 * A throw (an `HttpException` included), or a `@Res({ passthrough: true })` status outside 2xx,
 * invalidates nothing. A failed invalidation is a warning, not an error: the mutation itself succeeded.
 */
export function InvalidateTags(...tags: [TagsResolver] | string[]): MethodDecorator {
  const resolver = tags.length === 1 && typeof tags[0] === 'function' ? (tags[0] as TagsResolver) : undefined
  if (!resolver && (tags.length === 0 || !tags.every((tag) => typeof tag === 'string' && tag !== ''))) {
    throw new ValidationError(
      '@InvalidateTags() takes non-empty tag strings or one (result, ...args) => tags function',
      'tags',
    )
  }
  return (target, propertyKey, descriptor) =>
    replaceMethod(target, propertyKey, descriptor, 'InvalidateTags', (original) => {
      return async function invalidating(this: unknown, ...args: unknown[]) {
        const result = await settle(original.apply(this, args))
        const cache = stackFor(this)
        if (!cache || answersNon2xx(args)) return result
        const list = resolver ? (resolver as (...a: unknown[]) => readonly string[])(result, ...args) : tags
        const names = [...(list as readonly string[])].filter((tag) => typeof tag === 'string' && tag !== '')
        if (names.length === 0) return result
        try {
          await cache.invalidateByTags(names)
        } catch (error) {
          process.emitWarning(`cachestack: invalidating ${names.join(', ')} failed: ${String(error)}`)
        }
        return result
      }
    }) as never
}

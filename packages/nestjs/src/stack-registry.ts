import type { CacheStack } from '@cachestack/core'

// Method decorators run when a class is defined, long before Nest builds the stack, so `@Cacheable` and
// `@InvalidateTags` find their stack at call time: by instance (set when the module starts) or, for
// request-scoped instances the module never sees, by class.
const byInstance = new WeakMap<object, CacheStack>()
const byClass = new WeakMap<object, CacheStack>()
let warned = false

/** Binds the instances and classes that use method decorators to a stack. */
export function bindStack(
  cache: CacheStack,
  instance: object | undefined,
  metatype: object | undefined,
): void {
  if (instance) byInstance.set(instance, cache)
  if (metatype) byClass.set(metatype, cache)
}

/** Forgets a stack's bindings (on shutdown), so a closed app's instances run their methods uncached. */
export function unbindStack(cache: CacheStack, instances: readonly object[]): void {
  for (const instance of instances) {
    if (byInstance.get(instance) === cache) byInstance.delete(instance)
    const metatype = (instance as { constructor?: object }).constructor
    if (metatype && byClass.get(metatype) === cache) byClass.delete(metatype)
  }
}

/** The stack a decorated method of `instance` uses, if the instance belongs to a started module. */
export function stackFor(instance: unknown): CacheStack | undefined {
  if (instance === null || typeof instance !== 'object') return undefined
  const found = byInstance.get(instance) ?? byClass.get((instance as { constructor: object }).constructor)
  if (!found && !warned) {
    warned = true
    process.emitWarning(
      'cachestack: a @Cacheable/@InvalidateTags method ran on an instance no CacheStackModule knows ' +
        '(created with `new`, or before the module started); it runs uncached',
    )
  }
  return found
}

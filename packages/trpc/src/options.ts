import { OperationCache, type OperationCacheOptions, ValidationError } from '@cachestack/core'

/**
 * Builds the operation cache behind a middleware, naming the middleware in the error a wrong option
 * raises (core names its own `OperationCache` otherwise).
 */
export function operationCache<Args extends readonly unknown[], Ctx, T>(
  options: OperationCacheOptions<Args, Ctx, T>,
  what: string,
): OperationCache<Args, Ctx, T> {
  try {
    return new OperationCache(options)
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new ValidationError(
        error.message.replace('an OperationCache option', `an option of ${what}`),
        error.option,
      )
    }
    throw error
  }
}

/** Refuses a non-object options argument and the options named in `own` that are not functions. */
export function assertOptionsObject(
  options: unknown,
  what: string,
): asserts options is Record<string, unknown> {
  if (!options || typeof options !== 'object' || Array.isArray(options)) {
    throw new ValidationError(`${what} takes an options object`, 'options')
  }
}

/** Refuses an option that must be a function when given. */
export function assertOptionalFunction(value: unknown, option: string): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new ValidationError(`"${option}" must be a function`, option)
  }
}

import { ValidationError } from '@cachestack/core'

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

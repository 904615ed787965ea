import { ValidationError } from '@cachestack/core'

/**
 * A plain-data copy of a resolver's result (arrays, plain objects of own enumerable fields, primitives,
 * dates): what every layer can store, so a hit returns exactly what the miss returned, whether it comes
 * from memory or Redis. A function, symbol or promise cannot be stored: refused, naming where it was.
 */
export function toPlainData(value: unknown, where: string, path = ''): unknown {
  switch (typeof value) {
    case 'function':
    case 'symbol':
      throw new ValidationError(
        `${where} returned a ${typeof value} at "${path || '.'}"; cached results must be plain data`,
        'resolver',
      )
    case 'object':
      break
    default:
      return value
  }
  if (value === null || value instanceof Date) return value
  if (typeof (value as { then?: unknown }).then === 'function') {
    throw new ValidationError(
      `${where} returned a promise at "${path || '.'}"; cached results must be plain data`,
      'resolver',
    )
  }
  if (Array.isArray(value)) return value.map((item, i) => toPlainData(item, where, `${path}[${i}]`))
  const copy: Record<string, unknown> = {}
  for (const [field, item] of Object.entries(value)) {
    if (item !== undefined) copy[field] = toPlainData(item, where, `${path}.${field}`)
  }
  return copy
}

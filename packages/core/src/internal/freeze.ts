/** Freezes a value and everything reachable from it; returns it. Cycles are safe. */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value
  // Typed arrays with elements cannot be frozen; they are copied on write like everything else.
  if (ArrayBuffer.isView(value)) return value
  Object.freeze(value)
  for (const key of Reflect.ownKeys(value)) {
    deepFreeze((value as Record<PropertyKey, unknown>)[key])
  }
  return value
}

/** A private, frozen copy of `value`: what the memory layer hands out, so no caller can change what it holds. */
export function frozenCopy<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value
  return deepFreeze(structuredClone(value))
}

/** A rough byte size of a value, for memory budgets. Only called on writes. */
export function estimateBytes(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return 2 * value.length + 16
    case 'number':
    case 'bigint':
    case 'boolean':
    case 'undefined':
      return 16
    default: {
      if (value === null) return 16
      if (ArrayBuffer.isView(value)) return value.byteLength + 64
      try {
        return 2 * (JSON.stringify(value)?.length ?? 0) + 64
      } catch {
        return 1024
      }
    }
  }
}

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

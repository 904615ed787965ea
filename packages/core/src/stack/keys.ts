import { createHash } from 'node:crypto'
import { ValidationError } from '../errors.ts'

/** Keys longer than this (after canonicalization) are replaced by a hash in `wrap`. */
export const MAX_WRAP_KEY_LENGTH = 200

/** Throws the contract's `TypeError` for anything but a non-empty string. */
export function assertKey(key: unknown, option = 'key'): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    const got = typeof key === 'string' ? 'an empty string' : key === null ? 'null' : typeof key
    throw new ValidationError(`"${option}" must be a non-empty string; got ${got}`, option)
  }
}

/** Throws when `value` cannot be stored: `undefined` means "miss" and so can never be a value. */
export function assertValue(value: unknown, key: string): void {
  if (value === undefined) {
    throw new ValidationError(
      `Cannot cache undefined under "${key}": undefined means a miss (use null)`,
      'value',
    )
  }
}

/**
 * A canonical text for arguments: object keys sorted so `{a,b}` equals `{b,a}`, and every primitive
 * tagged with its type so `1` and `'1'` never collide.
 */
export function canonicalArgs(args: readonly unknown[]): string {
  return canonical(args, new Set())
}

function canonical(value: unknown, seen: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'number':
      return Object.is(value, -0) ? 'n:-0' : `n:${value}`
    case 'bigint':
      return `b:${value}`
    case 'boolean':
      return value ? 'T' : 'F'
    case 'undefined':
      return 'U'
    case 'symbol':
    case 'function':
      throw new ValidationError(`Cannot build a cache key from a ${typeof value}`, 'args')
  }
  if (value === null) return 'N'
  const object = value as object
  if (seen.has(object))
    throw new ValidationError('Cannot build a cache key from a circular structure', 'args')
  seen.add(object)
  try {
    if (Array.isArray(object)) return `[${object.map((item) => canonical(item, seen)).join(',')}]`
    if (object instanceof Date) return `D:${object.toISOString()}`
    if (object instanceof Map) {
      const pairs = [...object.entries()].map(([k, v]) => `${canonical(k, seen)}=>${canonical(v, seen)}`)
      return `M{${pairs.sort().join(',')}}`
    }
    if (object instanceof Set)
      return `S{${[...object]
        .map((item) => canonical(item, seen))
        .sort()
        .join(',')}}`
    if (ArrayBuffer.isView(object))
      return `B:${Buffer.from(object.buffer, object.byteOffset, object.byteLength).toString('base64')}`
    const keys = Object.keys(object).sort()
    const record = object as Record<string, unknown>
    const parts = keys
      .filter((k) => record[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical(record[k], seen)}`)
    return `{${parts.join(',')}}`
  } finally {
    seen.delete(object)
  }
}

/** A short, stable digest for long keys. */
export function hashKey(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 32)
}

/** The key `wrap` uses for one call. */
export function wrapKey(prefix: string, args: readonly unknown[]): string {
  const text = canonicalArgs(args)
  return text.length > MAX_WRAP_KEY_LENGTH ? `${prefix}:#${hashKey(text)}` : `${prefix}:${text}`
}

/** Turns a glob (`*`, `?`, `[abc]`) into an anchored RegExp for matching keys locally. */
export function globToRegExp(glob: string): RegExp {
  let source = ''
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!
    if (char === '*') source += '.*'
    else if (char === '?') source += '.'
    else if (char === '\\' && i + 1 < glob.length) source += escapeRegExp(glob[++i]!)
    else if (char === '[') {
      const end = glob.indexOf(']', i + 1)
      if (end === -1) source += '\\['
      else {
        const body = glob.slice(i + 1, end).replace(/\\/g, '\\\\')
        source += body.startsWith('^') || body.startsWith('!') ? `[^${body.slice(1)}]` : `[${body}]`
        i = end
      }
    } else source += escapeRegExp(char)
  }
  return new RegExp(`^${source}$`, 's')
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}

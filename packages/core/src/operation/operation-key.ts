import { createHash } from 'node:crypto'
import { ValidationError } from '../errors.ts'

/** Operation keys longer than this (after canonicalization) end in a hash of the arguments instead. */
export const MAX_OPERATION_KEY_LENGTH = 200

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

/** A short, irreversible digest of a session: session identifiers never appear in keys. */
export function hashSession(session: string): string {
  return createHash('sha256').update(session).digest('base64url').slice(0, 22)
}

/** The key part that makes an entry private to one session. */
export function sessionSuffix(session: string): string {
  return ` session=${hashSession(session)}`
}

/**
 * The key of one call of an operation: `name:` plus the canonical arguments (hashed past
 * `MAX_OPERATION_KEY_LENGTH`), plus a hash of the session for a private operation.
 */
export function operationKey(name: string, args: readonly unknown[], session?: string): string {
  const text = canonicalArgs(args)
  const key = text.length > MAX_OPERATION_KEY_LENGTH ? `${name}:#${hashKey(text)}` : `${name}:${text}`
  return session === undefined ? key : key + sessionSuffix(session)
}

// Keyspace patterns: `'requests/:userId/:path'` names the fields of a key object, at compile time (the
// key type) and at run time (the stored key, with each field checked and escaped).

import { ValidationError } from '../errors.ts'

/** A value a key field may hold. */
export type KeyPart = string | number

type Segments<P extends string> = P extends `${infer Head}/${infer Tail}` ? Head | Segments<Tail> : P
type FieldOf<S> = S extends `:${infer Name}` ? Name : never

/** The field names of a pattern: `'a/:x/:y'` → `'x' | 'y'`. */
export type PatternFields<P extends string> = FieldOf<Segments<P>>

/**
 * The key object of a pattern: exactly its fields (a missing or extra field is a compile error on an
 * object literal, and a `ValidationError` at run time).
 */
export type KeyOf<P extends string> = string extends P
  ? Record<string, KeyPart>
  : [PatternFields<P>] extends [never]
    ? Record<string, never>
    : { readonly [F in PatternFields<P>]: KeyPart }

/** A parsed pattern: literal segments and field names, in order. */
export class KeyPattern {
  readonly source: string
  readonly #segments: readonly { field?: string; text: string }[]
  readonly #fields: ReadonlySet<string>

  constructor(source: unknown) {
    if (typeof source !== 'string' || source.length === 0) {
      throw new ValidationError(
        '"pattern" must be a non-empty string such as \'requests/:userId\'',
        'pattern',
      )
    }
    this.source = source
    const fields = new Set<string>()
    this.#segments = source.split('/').map((text) => {
      if (!text.startsWith(':')) return { text }
      const field = text.slice(1)
      if (!/^[A-Za-z_$][\w$]*$/.test(field)) {
        throw new ValidationError(
          `"pattern" has a field named "${field}": use letters, digits and _`,
          'pattern',
        )
      }
      if (fields.has(field))
        throw new ValidationError(`"pattern" names the field "${field}" twice`, 'pattern')
      fields.add(field)
      return { field, text }
    })
    this.#fields = fields
  }

  /**
   * The key for `key`'s fields. Values are escaped (`%` → `%25`, `/` → `%2F`) so that
   * `{ a: 'x/y', b: 'z' }` and `{ a: 'x', b: 'y/z' }` never share a key.
   */
  keyOf(key: unknown): string {
    if (typeof key !== 'object' || key === null || Array.isArray(key)) {
      throw new ValidationError(`A key of "${this.source}" must be an object of its fields`, 'key')
    }
    for (const name in key) {
      if (!this.#fields.has(name) && Object.hasOwn(key, name)) {
        throw new ValidationError(`"${name}" is not a field of the pattern "${this.source}"`, name)
      }
    }
    let out = ''
    for (let i = 0; i < this.#segments.length; i++) {
      const segment = this.#segments[i]!
      if (i > 0) out += '/'
      if (segment.field === undefined) {
        out += segment.text
        continue
      }
      const value = (key as Record<string, unknown>)[segment.field]
      if (value === undefined) {
        throw new ValidationError(
          `The key is missing the field "${segment.field}" of "${this.source}"`,
          segment.field,
        )
      }
      if (typeof value === 'number' ? !Number.isFinite(value) : typeof value !== 'string') {
        throw new ValidationError(
          `The field "${segment.field}" must be a string or a finite number; got ${typeof value}`,
          segment.field,
        )
      }
      const text = String(value)
      out +=
        text.includes('%') || text.includes('/') ? text.replaceAll('%', '%25').replaceAll('/', '%2F') : text
    }
    return out
  }
}

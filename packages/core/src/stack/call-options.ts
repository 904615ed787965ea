// The option names each public call accepts, and the check that refuses the others.

import { ValidationError } from '../errors.ts'
import { assertKnownOptions, joinNames, optionNames } from '../internal/known-options.ts'
import type { MgetEntry } from './api-types.ts'
import type { GetOrSetObject, SetObject } from './forms.ts'
import { ENTRY_OPTION_NAMES, READ_OPTION_NAMES } from './options.ts'

/** Completes "is not …" in the error for an unknown read option. */
export const READ_WHAT = 'an option of get()/getOrSet()/wrap()'
/** Completes "is not …" in the error for an unknown write option. */
export const SET_WHAT = 'an option of set()'
/** Keys of `get({ key, factory, ... })`. */
export const OBJECT_READ_NAMES = joinNames(
  READ_OPTION_NAMES,
  optionNames<Pick<GetOrSetObject<unknown>, 'key' | 'factory'>>({ key: true, factory: true }),
)
/** Keys of `set({ key, value, ... })` and of an `mset` item. */
export const OBJECT_SET_NAMES = joinNames(
  ENTRY_OPTION_NAMES,
  optionNames<Pick<SetObject<unknown>, 'key' | 'value'>>({ key: true, value: true }),
)
/** Keys of an `mget` item. */
export const MGET_ITEM_NAMES = joinNames(
  READ_OPTION_NAMES,
  optionNames<Pick<MgetEntry, 'key' | 'fetch'>>({ key: true, fetch: true }),
)

/** Refuses anything but a plain object, and unknown keys in it. */
export function assertOptionsObject(options: unknown, known: ReadonlySet<string>, what: string): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ValidationError(`options must be an object; got ${String(options)}`, 'options')
  }
  assertKnownOptions(options, known, what)
}

/** Checks the two forms of `getOrSet`: `(key, factory)` or `({ key, factory, ...options })`. */
export function assertGetOrSetForm(key: unknown, factory: unknown): void {
  const isObject = typeof key === 'object' && key !== null
  if (isObject) assertKnownOptions(key, OBJECT_READ_NAMES, READ_WHAT)
  const fn = isObject ? (key as { factory?: unknown }).factory : factory
  if (typeof fn !== 'function') throw new ValidationError('"factory" must be a function', 'factory')
}

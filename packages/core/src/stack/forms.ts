import { ValidationError } from '../errors.ts'
import type { Factory, Storable } from './factory.ts'
import type { EntryOptions, ReadOptions } from './options.ts'

/** The object form of `get`: `get({ key, defaultValue })`. */
export interface KeyArg<T, G = T> extends ReadOptions {
  key: string
  defaultValue?: T | undefined
  factory?: Factory<T, G> | undefined
}

/** The object form of `getOrSet`: `getOrSet({ key, factory, ...options })`. */
export interface GetOrSetObject<T, G = T> extends ReadOptions {
  key: string
  factory: Factory<T, G>
  defaultValue?: T | undefined
}

/** The object form of `set`: `set({ key, value, ttl, tags })`. */
export interface SetObject<T> extends EntryOptions {
  key: string
  value: Storable<T>
}

/** Reads `key` out of a string or `{ key }`. */
export function objectKey(key: string | { key: string }): string {
  return typeof key === 'object' && key !== null ? key.key : key
}

/** Reads a list of keys out of an array or `{ keys }`. */
export function keysArg(keys: readonly string[] | { keys: readonly string[] }): readonly string[] {
  const list = Array.isArray(keys) ? keys : (keys as { keys?: readonly string[] })?.keys
  if (!Array.isArray(list)) throw new ValidationError('"keys" must be an array of keys', 'keys')
  return list
}

/** Reads tags out of a string, an array or `{ tags }`. */
export function tagsArg(tags: string | readonly string[] | { tags: readonly string[] }): readonly string[] {
  const list =
    typeof tags === 'string'
      ? [tags]
      : Array.isArray(tags)
        ? tags
        : (tags as { tags?: readonly string[] })?.tags
  if (!Array.isArray(list) || list.some((tag) => typeof tag !== 'string' || tag.length === 0)) {
    throw new ValidationError('"tags" must be a non-empty string or an array of them', 'tags')
  }
  return list
}

/** Runs `run`, turning a synchronous throw (bad arguments) into a rejection: promise methods never throw. */
export function rejecting<R>(run: () => Promise<R>): Promise<R> {
  try {
    return run()
  } catch (error) {
    return Promise.reject(error)
  }
}

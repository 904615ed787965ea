// What keyspaces need from where they are kept: a small set of Redis commands, on Redis itself or
// played in memory with the same answers (`memory-backend.ts`, `redis-backend.ts`).

import { ValidationError } from '../errors.ts'
import type { ExpiryAction } from './expiry.ts'

/** Prefix of keyspace keys in the shared layer, beside the stack's other system keys (`__cs:`). */
export const KEYSPACE_PREFIX = '__cs:ks:'

/** Which end of a list. */
export type ListEnd = 'left' | 'right'

/**
 * The commands keyspaces run; keys are full (namespace included), values the strings Redis stores.
 * Writes that take an `ExpiryAction` apply it in the same step as the change.
 */
export interface KeyspaceBackend {
  /** `'redis'` (shared by every instance) or `'memory'` (this process only). */
  readonly kind: 'redis' | 'memory'
  get(key: string): Promise<string | undefined>
  /** SET, with NX / XX when `only` is given; false when the condition kept it from writing. */
  set(key: string, value: string, expiry: ExpiryAction, only?: 'nx' | 'xx'): Promise<boolean>
  delete(key: string): Promise<boolean>
  /** Applies `expiry` to an existing key; false when there is no key. */
  expire(key: string, expiry: ExpiryAction): Promise<boolean>
  /** Remaining ms, `Infinity` without expiry, `undefined` when absent. */
  ttl(key: string): Promise<number | undefined>
  incrBy(key: string, amount: number, expiry: ExpiryAction): Promise<number>
  /** Adds as IEEE doubles (not Redis's long doubles), so memory and Redis answer the same number. */
  incrByFloat(key: string, amount: number, expiry: ExpiryAction): Promise<number>
  append(key: string, value: string, expiry: ExpiryAction): Promise<number>
  getRange(key: string, start: number, end: number): Promise<string>
  setRange(key: string, offset: number, value: string, expiry: ExpiryAction): Promise<number>
  strlen(key: string): Promise<number>
  push(key: string, end: ListEnd, values: readonly string[], expiry: ExpiryAction): Promise<number>
  pop(key: string, end: ListEnd): Promise<string | undefined>
  listRange(key: string, start: number, stop: number): Promise<string[]>
  listLength(key: string): Promise<number>
  setAdd(key: string, members: readonly string[], expiry: ExpiryAction): Promise<number>
  setRemove(key: string, members: readonly string[]): Promise<number>
  setContains(key: string, member: string): Promise<boolean>
  setMembers(key: string): Promise<string[]>
  setSize(key: string): Promise<number>
  /** Removes every key starting with `prefix`. */
  clear(prefix: string): Promise<void>
}

/** The error both backends give when a float increment would leave the finite numbers. */
export function nonFinite(): ValidationError {
  return new ValidationError('The increment would make the value NaN or Infinity', 'amount')
}

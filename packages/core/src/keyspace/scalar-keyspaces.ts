// The keyspace kinds that hold one value per key: strings (with Redis's byte-offset string operations),
// integers and floats (atomic increments) and JSON structs.

import { ValidationError } from '../errors.ts'
import { ValueKeyspace, type WriteOptions } from './keyspace-base.ts'

/** Keys holding strings; offsets and lengths count UTF-8 bytes, as Redis does. */
export class StringKeyspace<Key> extends ValueKeyspace<Key, string> {
  /** Appends to the value (an absent key starts empty); resolves to the new length in bytes. */
  async append(key: Key, value: string, options?: WriteOptions): Promise<number> {
    const full = this.fullKey(key)
    return this.op('append', full, (backend, full) =>
      backend.append(full, this.encode(value), this.expiryOf(options)),
    )
  }

  /** The bytes from `start` to `end`, both included; negative offsets count from the end (`-1` is the last). */
  async getRange(key: Key, start: number, end: number): Promise<string> {
    const full = this.fullKey(key)
    return this.op('getRange', full, (backend, full) =>
      backend.getRange(full, integer(start, 'start'), integer(end, 'end')),
    )
  }

  /** Overwrites from byte `offset` (padding with zero bytes past the end); resolves to the new length. */
  async setRange(key: Key, offset: number, value: string, options?: WriteOptions): Promise<number> {
    const full = this.fullKey(key)
    const at = integer(offset, 'offset')
    if (at < 0) throw new ValidationError(`"offset" must be 0 or more; got ${at}`, 'offset')
    return this.op('setRange', full, (backend, full) =>
      backend.setRange(full, at, this.encode(value), this.expiryOf(options)),
    )
  }

  /** Length of the value in bytes (0 when absent). */
  async strlen(key: Key): Promise<number> {
    return this.op('strlen', this.fullKey(key), (backend, full) => backend.strlen(full))
  }

  protected encode(value: string): string {
    if (typeof value !== 'string')
      throw new ValidationError(`A string keyspace stores strings; got ${typeof value}`, 'value')
    return value
  }

  protected decode(text: string): string {
    return text
  }
}

/** Keys holding safe integers; `increment`/`decrement` are atomic and count from 0 on an absent key. */
export class IntKeyspace<Key> extends ValueKeyspace<Key, number> {
  /** Adds `amount` (default 1) and resolves to the new value. */
  async increment(key: Key, amount = 1, options?: WriteOptions): Promise<number> {
    const full = this.fullKey(key)
    return this.op('increment', full, (backend, full) =>
      backend.incrBy(full, this.#amount(amount), this.expiryOf(options)),
    )
  }

  /** Subtracts `amount` (default 1) and resolves to the new value. */
  async decrement(key: Key, amount = 1, options?: WriteOptions): Promise<number> {
    const full = this.fullKey(key)
    return this.op('decrement', full, (backend, full) =>
      backend.incrBy(full, -this.#amount(amount), this.expiryOf(options)),
    )
  }

  protected encode(value: number): string {
    if (!Number.isSafeInteger(value)) {
      throw new ValidationError(`An int keyspace stores safe integers; got ${String(value)}`, 'value')
    }
    return String(value)
  }

  protected decode(text: string): number | undefined {
    const value = Number(text)
    return Number.isInteger(value) ? value : undefined
  }

  #amount(amount: number): number {
    if (!Number.isSafeInteger(amount)) {
      throw new ValidationError(`"amount" must be a safe integer; got ${String(amount)}`, 'amount')
    }
    return amount
  }
}

/** Keys holding finite numbers (IEEE doubles, the same on Redis and in memory). */
export class FloatKeyspace<Key> extends ValueKeyspace<Key, number> {
  /** Adds `amount` (default 1) and resolves to the new value. */
  async increment(key: Key, amount = 1, options?: WriteOptions): Promise<number> {
    const full = this.fullKey(key)
    return this.op('increment', full, (backend, full) =>
      backend.incrByFloat(full, finite(amount, 'amount'), this.expiryOf(options)),
    )
  }

  /** Subtracts `amount` (default 1) and resolves to the new value. */
  async decrement(key: Key, amount = 1, options?: WriteOptions): Promise<number> {
    const full = this.fullKey(key)
    return this.op('decrement', full, (backend, full) =>
      backend.incrByFloat(full, -finite(amount, 'amount'), this.expiryOf(options)),
    )
  }

  protected encode(value: number): string {
    return String(finite(value, 'value'))
  }

  protected decode(text: string): number | undefined {
    const value = Number(text)
    return text.trim() === '' || Number.isNaN(value) ? undefined : value
  }
}

/** Keys holding JSON objects; `.of<T>()` names their type. Bytes that do not parse read as a miss. */
export class StructKeyspace<Key, Value extends object = Record<string, unknown>> extends ValueKeyspace<
  Key,
  Value
> {
  /** This keyspace, typed as holding `T` (no run-time check: validate what you read if others write it). */
  of<T extends object>(): StructKeyspace<Key, T> {
    return this as unknown as StructKeyspace<Key, T>
  }

  protected encode(value: Value): string {
    if (typeof value !== 'object' || value === null) {
      throw new ValidationError(
        `A struct keyspace stores JSON objects; got ${value === null ? 'null' : typeof value}`,
        'value',
      )
    }
    return JSON.stringify(value)
  }

  protected decode(text: string): Value | undefined {
    try {
      const value: unknown = JSON.parse(text)
      return typeof value === 'object' && value !== null ? (value as Value) : undefined
    } catch {
      return undefined
    }
  }
}

/** `value` when it is an integer, else a `ValidationError` naming `name`. */
export function integer(value: number, name: string): number {
  if (!Number.isSafeInteger(value))
    throw new ValidationError(`"${name}" must be an integer; got ${String(value)}`, name)
  return value
}

/** `value` when it is a finite number, else a `ValidationError` naming `name`. */
export function finite(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ValidationError(`"${name}" must be a finite number; got ${String(value)}`, name)
  }
  return value
}

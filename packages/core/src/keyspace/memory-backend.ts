// Keyspaces in this process, answering exactly as the Redis commands of `redis-backend.ts` do (byte
// offsets in strings, inclusive list ranges, empty lists and sets removed), on the stack's clock.

import { KeyspaceTypeError } from '../errors.ts'
import type { Clock } from '../layer.ts'
import { type KeyspaceBackend, type ListEnd, nonFinite } from './backend.ts'
import type { ExpiryAction } from './expiry.ts'

// A string value is a JS string until a byte operation (append, setRange) makes it a Buffer: counters and
// plain strings then cost no encoding, and byte offsets still count UTF-8 bytes.
type Stored = string | Buffer | string[] | Set<string>

interface Item {
  value: Stored
  /** Stack-clock ms; `Infinity` without expiry. */
  expiresAt: number
}

/** Writes between two sweeps of expired keys (reads drop the expired keys they meet). */
const SWEEP_EVERY = 1_024
// What Redis's string2ll takes: no sign on 0, no leading zeros, no spaces.
const INTEGER = /^(0|-?[1-9]\d{0,18})$/

/** A `KeyspaceBackend` in a `Map`, for stacks without a Redis layer. */
export class MemoryKeyspaceBackend implements KeyspaceBackend {
  readonly kind = 'memory'
  readonly #items = new Map<string, Item>()
  readonly #clock: Clock
  #writes = 0

  constructor(clock: Clock) {
    this.#clock = clock
  }

  async get(key: string): Promise<string | undefined> {
    return this.#text(this.#live(key), key)
  }

  async set(key: string, value: string, expiry: ExpiryAction, only?: 'nx' | 'xx'): Promise<boolean> {
    const item = this.#live(key)
    if ((only === 'nx' && item) || (only === 'xx' && !item)) return false
    this.#write(key, value, expiry, item)
    return true
  }

  async delete(key: string): Promise<boolean> {
    const existed = this.#live(key) !== undefined
    this.#items.delete(key)
    return existed
  }

  async expire(key: string, expiry: ExpiryAction): Promise<boolean> {
    const item = this.#live(key)
    if (!item) return false
    this.#applyExpiry(item, expiry)
    return true
  }

  async ttl(key: string): Promise<number | undefined> {
    const item = this.#live(key)
    if (!item) return undefined
    return item.expiresAt === Number.POSITIVE_INFINITY ? item.expiresAt : item.expiresAt - this.#clock.now()
  }

  async incrBy(key: string, amount: number, expiry: ExpiryAction): Promise<number> {
    const item = this.#live(key)
    const text = this.#text(item, key) ?? '0'
    if (!INTEGER.test(text)) throw new KeyspaceTypeError(key, 'does not hold an integer')
    const next = Number(text) + amount
    this.#write(key, String(next), expiry, item, true)
    return next
  }

  async incrByFloat(key: string, amount: number, expiry: ExpiryAction): Promise<number> {
    const item = this.#live(key)
    const text = this.#text(item, key) ?? '0'
    const value = text.trim() === '' ? Number.NaN : Number(text)
    if (Number.isNaN(value)) throw new KeyspaceTypeError(key, 'does not hold a number')
    const next = value + amount
    if (!Number.isFinite(next)) throw nonFinite()
    this.#write(key, String(next), expiry, item, true)
    return next
  }

  async append(key: string, value: string, expiry: ExpiryAction): Promise<number> {
    const current = this.#string(key) ?? Buffer.alloc(0)
    const next = Buffer.concat([current, Buffer.from(value, 'utf8')])
    this.#write(key, next, expiry, this.#live(key), true)
    return next.length
  }

  async getRange(key: string, start: number, end: number): Promise<string> {
    const bytes = this.#string(key)
    const length = bytes?.length ?? 0
    // GETRANGE's own clamping, step by step (t_string.c).
    if (start < 0 && end < 0 && start > end) return ''
    if (start < 0) start = length + start
    if (end < 0) end = length + end
    if (start < 0) start = 0
    if (end < 0) end = 0
    if (end >= length) end = length - 1
    if (bytes === undefined || start > end || length === 0) return ''
    return bytes.subarray(start, end + 1).toString('utf8')
  }

  async setRange(key: string, offset: number, value: string, expiry: ExpiryAction): Promise<number> {
    const current = this.#string(key)
    const add = Buffer.from(value, 'utf8')
    if (add.length === 0) return current?.length ?? 0
    const next = Buffer.alloc(Math.max(current?.length ?? 0, offset + add.length))
    current?.copy(next)
    add.copy(next, offset)
    this.#write(key, next, expiry, this.#live(key), true)
    return next.length
  }

  async strlen(key: string): Promise<number> {
    const item = this.#live(key)
    if (typeof item?.value === 'string') return Buffer.byteLength(item.value, 'utf8')
    return this.#string(key)?.length ?? 0
  }

  async push(key: string, end: ListEnd, values: readonly string[], expiry: ExpiryAction): Promise<number> {
    const item = this.#live(key)
    const list = item ? this.#list(key, item) : []
    if (end === 'right') list.push(...values)
    else for (const value of values) list.unshift(value)
    this.#write(key, list, expiry, item, true)
    return list.length
  }

  async pop(key: string, end: ListEnd): Promise<string | undefined> {
    const item = this.#live(key)
    if (!item) return undefined
    const list = this.#list(key, item)
    const value = end === 'left' ? list.shift() : list.pop()
    if (list.length === 0) this.#items.delete(key)
    return value
  }

  async listRange(key: string, start: number, stop: number): Promise<string[]> {
    const item = this.#live(key)
    if (!item) return []
    const list = this.#list(key, item)
    const length = list.length
    // LRANGE's clamping (t_list.c): negative counts from the end, the end index is included.
    if (start < 0) start = length + start
    if (stop < 0) stop = length + stop
    if (start < 0) start = 0
    if (start > stop || start >= length) return []
    if (stop >= length) stop = length - 1
    return list.slice(start, stop + 1)
  }

  async listLength(key: string): Promise<number> {
    const item = this.#live(key)
    return item ? this.#list(key, item).length : 0
  }

  async setAdd(key: string, members: readonly string[], expiry: ExpiryAction): Promise<number> {
    const item = this.#live(key)
    const set = item ? this.#set(key, item) : new Set<string>()
    const before = set.size
    for (const member of members) set.add(member)
    this.#write(key, set, expiry, item, true)
    return set.size - before
  }

  async setRemove(key: string, members: readonly string[]): Promise<number> {
    const item = this.#live(key)
    if (!item) return 0
    const set = this.#set(key, item)
    let removed = 0
    for (const member of members) if (set.delete(member)) removed++
    if (set.size === 0) this.#items.delete(key)
    return removed
  }

  async setContains(key: string, member: string): Promise<boolean> {
    const item = this.#live(key)
    return item ? this.#set(key, item).has(member) : false
  }

  async setMembers(key: string): Promise<string[]> {
    const item = this.#live(key)
    return item ? [...this.#set(key, item)] : []
  }

  async setSize(key: string): Promise<number> {
    const item = this.#live(key)
    return item ? this.#set(key, item).size : 0
  }

  async clear(prefix: string): Promise<void> {
    for (const key of this.#items.keys()) if (key.startsWith(prefix)) this.#items.delete(key)
  }

  #live(key: string): Item | undefined {
    const item = this.#items.get(key)
    if (item === undefined || item.expiresAt > this.#clock.now()) return item
    this.#items.delete(key)
    return undefined
  }

  /** The bytes of a string value (`undefined` when absent). */
  #string(key: string): Buffer | undefined {
    const item = this.#live(key)
    if (item === undefined) return undefined
    const value = item.value
    if (typeof value === 'string') return Buffer.from(value, 'utf8')
    if (!Buffer.isBuffer(value)) throw wrongType(key)
    return value
  }

  /** The text of a string value (`undefined` when absent), decoded as Redis's client would. */
  #text(item: Item | undefined, key: string): string | undefined {
    if (item === undefined) return undefined
    const value = item.value
    if (typeof value === 'string') return value
    if (!Buffer.isBuffer(value)) throw wrongType(key)
    return value.toString('utf8')
  }

  #list(key: string, item: Item): string[] {
    if (!Array.isArray(item.value)) throw wrongType(key)
    return item.value
  }

  #set(key: string, item: Item): Set<string> {
    if (!(item.value instanceof Set)) throw wrongType(key)
    return item.value
  }

  /** Stores `value`; `update` marks a change of an existing value (a new key starts without expiry). */
  #write(key: string, value: Stored, expiry: ExpiryAction, item: Item | undefined, update = false): void {
    if (++this.#writes % SWEEP_EVERY === 0) this.#sweep()
    if (item === undefined) {
      item = { value, expiresAt: Number.POSITIVE_INFINITY }
      this.#items.set(key, item)
    } else {
      item.value = value
      // SET without KEEPTTL drops the old time to live; the other writes keep it unless told otherwise.
      if (!update && expiry !== 'keep') item.expiresAt = Number.POSITIVE_INFINITY
    }
    this.#applyExpiry(item, expiry)
  }

  #applyExpiry(item: Item, expiry: ExpiryAction): void {
    if (expiry === 'persist') item.expiresAt = Number.POSITIVE_INFINITY
    else if (expiry !== 'keep') item.expiresAt = this.#clock.now() + expiry.px
  }

  #sweep(): void {
    const now = this.#clock.now()
    for (const [key, item] of this.#items) if (item.expiresAt <= now) this.#items.delete(key)
  }
}

function wrongType(key: string): KeyspaceTypeError {
  return new KeyspaceTypeError(key, 'holds another kind of value (WRONGTYPE)')
}

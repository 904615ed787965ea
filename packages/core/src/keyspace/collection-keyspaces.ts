// The keyspace kinds that hold many values per key: lists (Redis list semantics: inclusive ranges,
// negative indexes, an emptied list is gone) and sets, of strings or of numbers.

import { ValidationError } from '../errors.ts'
import { Keyspace, type KeyspaceContext } from './keyspace-base.ts'
import { finite, integer } from './scalar-keyspaces.ts'

/** How the items of a list or set are stored: strings as they are, numbers as their shortest decimal. */
export interface ItemCodec<V> {
  readonly name: string
  encode(value: V): string
  decode(text: string): V
}

/** Items that are strings. */
export const STRING_ITEMS: ItemCodec<string> = {
  name: 'string',
  encode(value) {
    if (typeof value !== 'string')
      throw new ValidationError(`Items must be strings; got ${typeof value}`, 'value')
    return value
  },
  decode: (text) => text,
}

/** Items that are finite numbers (`-0` is stored as `0`). */
export const NUMBER_ITEMS: ItemCodec<number> = {
  name: 'number',
  encode: (value) => String(finite(value, 'value')),
  decode: Number,
}

abstract class CollectionKeyspace<Key, V> extends Keyspace<Key> {
  protected readonly codec: ItemCodec<V>

  constructor(context: KeyspaceContext, items: ItemCodec<V>) {
    super(context)
    this.codec = items
  }

  protected override constructorExtras(): unknown[] {
    return [this.codec]
  }

  protected encodeAll(values: readonly V[]): string[] {
    if (values.length === 0) throw new ValidationError('Give at least one value', 'value')
    return values.map((value) => this.codec.encode(value))
  }
}

/** Keys holding ordered lists; writes apply the keyspace's `defaultExpiry` (see `withExpiry`; none: the expiry is kept). */
export class ListKeyspace<Key, V extends string | number> extends CollectionKeyspace<Key, V> {
  /** Puts `values` at the head, one after the other (so the last given ends up first); resolves to the new length. */
  async pushLeft(key: Key, ...values: V[]): Promise<number> {
    const full = this.fullKey(key)
    return this.op('pushLeft', full, (backend, full) =>
      backend.push(full, 'left', this.encodeAll(values), this.expiryOf(undefined)),
    )
  }

  /** Appends `values` at the tail, in order; resolves to the new length. */
  async pushRight(key: Key, ...values: V[]): Promise<number> {
    const full = this.fullKey(key)
    return this.op('pushRight', full, (backend, full) =>
      backend.push(full, 'right', this.encodeAll(values), this.expiryOf(undefined)),
    )
  }

  /** Removes and returns the first item (`undefined` when empty); the last pop removes the key. */
  async popLeft(key: Key): Promise<V | undefined> {
    return this.op('popLeft', this.fullKey(key), async (backend, full) => {
      const text = await backend.pop(full, 'left')
      return text === undefined ? undefined : this.codec.decode(text)
    })
  }

  /** Removes and returns the last item (`undefined` when empty); the last pop removes the key. */
  async popRight(key: Key): Promise<V | undefined> {
    return this.op('popRight', this.fullKey(key), async (backend, full) => {
      const text = await backend.pop(full, 'right')
      return text === undefined ? undefined : this.codec.decode(text)
    })
  }

  /** Items `start` to `stop`, both included; negative indexes count from the end (`0, -1` is all). */
  async getRange(key: Key, start: number, stop: number): Promise<V[]> {
    const full = this.fullKey(key)
    return this.op('getRange', full, async (backend, full) => {
      const texts = await backend.listRange(full, integer(start, 'start'), integer(stop, 'stop'))
      return texts.map((text) => this.codec.decode(text))
    })
  }

  /** Every item, in order (empty when the key is absent). */
  items(key: Key): Promise<V[]> {
    return this.getRange(key, 0, -1)
  }

  /** Number of items (0 when absent). */
  async length(key: Key): Promise<number> {
    return this.op('length', this.fullKey(key), (backend, full) => backend.listLength(full))
  }
}

/** Keys holding sets of unique values, in no particular order; writes apply the keyspace's `defaultExpiry`. */
export class SetKeyspace<Key, V extends string | number> extends CollectionKeyspace<Key, V> {
  /** Adds `members`; resolves to how many were not there yet. */
  async add(key: Key, ...members: V[]): Promise<number> {
    const full = this.fullKey(key)
    return this.op('add', full, (backend, full) =>
      backend.setAdd(full, this.encodeAll(members), this.expiryOf(undefined)),
    )
  }

  /** Removes `members`; resolves to how many were there. The last removal removes the key. */
  async remove(key: Key, ...members: V[]): Promise<number> {
    const full = this.fullKey(key)
    return this.op('remove', full, (backend, full) => backend.setRemove(full, this.encodeAll(members)))
  }

  /** True when `member` is in the set. */
  async contains(key: Key, member: V): Promise<boolean> {
    const full = this.fullKey(key)
    return this.op('contains', full, (backend, full) => backend.setContains(full, this.codec.encode(member)))
  }

  /** Every member, in no particular order (empty when absent). */
  async members(key: Key): Promise<V[]> {
    return this.op('members', this.fullKey(key), async (backend, full) => {
      const texts = await backend.setMembers(full)
      return texts.map((text) => this.codec.decode(text))
    })
  }

  /** Number of members (0 when absent). */
  async size(key: Key): Promise<number> {
    return this.op('size', this.fullKey(key), (backend, full) => backend.setSize(full))
  }
}

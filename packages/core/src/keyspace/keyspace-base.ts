// What every keyspace kind shares: its key pattern, its backend, its default expiry, and the operations
// every kind has (delete, expire, ttl); `ValueKeyspace` adds get/set and the conditional writes.

import { CacheKeyExistsError, CacheMissError, ValidationError } from '../errors.ts'
import { assertKnownOptions, optionNames } from '../internal/known-options.ts'
import type { StackEngine } from '../stack/engine.ts'
import { operationChannel } from '../stack/tracing.ts'
import type { StackView } from '../stack/view.ts'
import { KEYSPACE_PREFIX, type KeyspaceBackend } from './backend.ts'
import { assertExpiry, type Expiry, type ExpiryAction, expiryAction } from './expiry.ts'
import type { KeyPattern } from './pattern.ts'

/** Options of a keyspace write. */
export interface WriteOptions {
  /** Overrides the keyspace's `defaultExpiry` for this write. */
  expiry?: Expiry | undefined
}

const WRITE_OPTION_NAMES = optionNames<WriteOptions>({ expiry: true })

/** What a keyspace is built from (see `createKeyspace`). */
export interface KeyspaceContext {
  readonly engine: StackEngine
  /** The view the keyspace was made on: its namespace is part of the keys, and traces name it. */
  readonly view: StackView
  readonly backend: KeyspaceBackend
  readonly pattern: KeyPattern
  /** `__cs:ks:` + the namespace path: put in front of every key. */
  readonly prefix: string
  readonly defaultExpiry: Expiry | undefined
}

/** The operations of every keyspace kind. `Key` is the key object its pattern names. */
export class Keyspace<Key> {
  readonly #context: KeyspaceContext

  constructor(context: KeyspaceContext) {
    this.#context = context
  }

  /** The pattern keys are built with (`'requests/:userId'`). */
  get pattern(): string {
    return this.#context.pattern.source
  }

  /**
   * This keyspace with another `defaultExpiry` (same keys, same backend): how list and set writes,
   * which take values rather than options, get an expiry of their own.
   */
  withExpiry(expiry: Expiry): this {
    assertExpiry(expiry, 'expiry')
    const Kind = this.constructor as new (context: KeyspaceContext, ...rest: unknown[]) => this
    return new Kind({ ...this.#context, defaultExpiry: expiry }, ...this.constructorExtras())
  }

  /** Removes the key; true when it existed. */
  async delete(key: Key): Promise<boolean> {
    return this.op('delete', this.fullKey(key), (backend, full) => backend.delete(full))
  }

  /** Sets the key's expiry (`keepTtl` changes nothing); false when there is no such key. */
  async expire(key: Key, expiry: Expiry): Promise<boolean> {
    assertExpiry(expiry, 'expiry')
    const full = this.fullKey(key)
    return this.op('expire', full, (backend, full) =>
      backend.expire(full, expiryAction(expiry, this.#context.engine.clock.now())),
    )
  }

  /** Remaining lifetime in ms, `Infinity` when the key never expires, `undefined` when there is no key. */
  async ttl(key: Key): Promise<number | undefined> {
    return this.op('ttl', this.fullKey(key), (backend, full) => backend.ttl(full))
  }

  /** What a kind's constructor takes after the context (`withExpiry` builds a copy with them). */
  protected constructorExtras(): unknown[] {
    return []
  }

  /** The stored key of `key` (checked against the pattern), namespace and keyspace prefix included. */
  protected fullKey(key: Key): string {
    return this.#context.prefix + this.#context.pattern.keyOf(key)
  }

  /**
   * Runs one operation on the backend once the stack is known to be open, published on
   * `cachestack:operation` as `keyspace` (with `command`) when somebody subscribes.
   */
  protected op<R>(
    command: string,
    full: string,
    run: (backend: KeyspaceBackend, full: string) => Promise<R>,
  ): Promise<R> {
    const context = this.#context
    try {
      context.engine.assertOpen()
      if (!operationChannel.hasSubscribers) return run(context.backend, full)
      return context.view.trace(
        () => ({ operation: 'keyspace', command, key: visible(full) }),
        async () => run(context.backend, full),
      )
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * The expiry a write applies: the call's, else the keyspace's `defaultExpiry`, else `fallback` (a plain
   * `set` removes an old expiry, as Redis's SET does; the other writes keep it).
   */
  protected expiryOf(options: WriteOptions | undefined, fallback: 'persist' | 'keep' = 'keep'): ExpiryAction {
    if (options !== undefined) {
      if (typeof options !== 'object' || options === null) {
        throw new ValidationError('Write options must be an object such as { expiry }', 'options')
      }
      assertKnownOptions(options, WRITE_OPTION_NAMES, 'an option of a keyspace write')
    }
    const expiry = options?.expiry ?? this.#context.defaultExpiry
    if (expiry === undefined) return fallback
    assertExpiry(expiry, 'expiry')
    return expiryAction(expiry, this.#context.engine.clock.now())
  }
}

/** A keyspace whose keys hold one value: `get`, `set`, `setIfNotExists`, `replace`. */
export abstract class ValueKeyspace<Key, Value> extends Keyspace<Key> {
  /** The string stored for a value; throws a `ValidationError` for a value this kind cannot hold. */
  protected abstract encode(value: Value): string
  /** The value of a stored string; `undefined` when it cannot be read back (treated as a miss). */
  protected abstract decode(text: string): Value | undefined

  /** The value, or `undefined` when there is none. */
  async get(key: Key): Promise<Value | undefined> {
    return this.op('get', this.fullKey(key), async (backend, full) => {
      const text = await backend.get(full)
      return text === undefined ? undefined : this.decode(text)
    })
  }

  /** Stores the value (with the write's or the keyspace's expiry; none removes an old one). */
  async set(key: Key, value: Value, options?: WriteOptions): Promise<void> {
    const full = this.fullKey(key)
    await this.op('set', full, (backend, full) =>
      backend.set(full, this.encode(value), this.expiryOf(options, 'persist')),
    )
  }

  /** Stores the value only when the key holds none; `CacheKeyExistsError` otherwise. */
  async setIfNotExists(key: Key, value: Value, options?: WriteOptions): Promise<void> {
    const full = this.fullKey(key)
    await this.op('setIfNotExists', full, async (backend, full) => {
      const written = await backend.set(full, this.encode(value), this.expiryOf(options, 'persist'), 'nx')
      if (!written) throw new CacheKeyExistsError(visible(full))
    })
  }

  /** Stores the value only when the key already holds one; `CacheMissError` otherwise. */
  async replace(key: Key, value: Value, options?: WriteOptions): Promise<void> {
    const full = this.fullKey(key)
    await this.op('replace', full, async (backend, full) => {
      const written = await backend.set(full, this.encode(value), this.expiryOf(options, 'persist'), 'xx')
      if (!written) throw new CacheMissError(visible(full))
    })
  }
}

/** A stored key as errors show it: namespace path and key, without the keyspace prefix. */
function visible(full: string): string {
  return full.slice(KEYSPACE_PREFIX.length)
}

import { CommandTimeoutError, ItemTooLargeError, LayerError, ValidationError } from '../errors.ts'
import type { MemjsClient } from '../internal/memjs.ts'
import { CorruptedEntryError, EntryCodec } from '../internal/serialization.ts'
import {
  CUSTOM_SERIALIZER_VALUES,
  JSON_VALUES,
  MSGPACK_VALUES,
  type ValueSupport,
} from '../internal/value-check.ts'
import {
  type CacheEntry,
  type CacheLayer,
  type Clock,
  type LayerContext,
  type LayerWrite,
  systemClock,
} from '../layer.ts'
import { type MemcachedLayerOptions, normalizeMemcachedLayerOptions } from './memcached-options.ts'
import { dumpKeys } from './memcached-scan.ts'
import { frame, isHashedKey, storedKey, toExptime, unframe } from './memcached-wire.ts'

export type { MemcachedLayerOptions } from './memcached-options.ts'

// How many keys `keys()` and `clear()` read or delete at once.
const BATCH = 200

/**
 * The shared layer on memcached, through memjs. Each key holds the whole entry, framed with its exact
 * expiry (see `memcached-wire.ts`). memcached cannot list keys: `keys()` and `clear(prefix)` walk the
 * server's keys with the LRU crawler (`lru_crawler metadump`), a cost proportional to everything the
 * server holds, so prefix invalidation works but is meant to be rare.
 */
export class MemcachedLayer implements CacheLayer {
  readonly name: string
  readonly isLocal = false
  /** Plain JSON with `'json'`; dates, byte arrays and NaN too with `'msgpack'`; a custom serializer is trusted. */
  readonly storable: ValueSupport
  /** The memjs client in use (given or created). */
  readonly client: MemjsClient
  /** Prepended to every stored key. */
  readonly prefix: string
  readonly #ownsClient: boolean
  readonly #prefix: string
  readonly #codec: EntryCodec
  readonly #timeout: number
  readonly #allowUnprefixedClear: boolean
  #clock: Clock = systemClock
  #context: LayerContext | undefined
  #disposed = false

  constructor(options: MemcachedLayerOptions) {
    const normalized = normalizeMemcachedLayerOptions(options)
    this.name = normalized.name
    this.client = normalized.client
    this.#ownsClient = normalized.ownsClient
    this.prefix = normalized.prefix
    this.#prefix = normalized.prefix
    this.#codec = new EntryCodec(normalized.codec)
    const serializer = normalized.codec.serializer
    this.storable =
      serializer === 'json'
        ? JSON_VALUES
        : serializer === 'msgpack'
          ? MSGPACK_VALUES
          : CUSTOM_SERIALIZER_VALUES
    this.#timeout = normalized.commandTimeout
    this.#allowUnprefixedClear = normalized.allowUnprefixedClear
  }

  attach(context: LayerContext): void {
    this.#context = context
    this.#clock = context.clock
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    const data = await this.#read('get', key)
    return data === undefined ? undefined : this.#decode('get', key, data)
  }

  /** memjs has no multi-get: the gets go out at once, pipelined on the client's connection. */
  async getMany(keys: readonly string[]): Promise<(CacheEntry | undefined)[]> {
    if (keys.length === 0) return []
    const unique = [...new Set(keys)]
    const found = await Promise.all(
      unique.map(async (key) => {
        const data = await this.#read('getMany', key)
        return data === undefined ? undefined : this.#decode('getMany', key, data)
      }),
    )
    const byKey = new Map(unique.map((key, i) => [key, found[i]]))
    return keys.map((key) => byKey.get(key))
  }

  async set(key: string, entry: CacheEntry, ttl: number | undefined): Promise<void> {
    await this.#write('set', key, entry, ttl)
  }

  async setMany(writes: readonly LayerWrite[]): Promise<void> {
    await Promise.all(writes.map(({ key, entry, ttl }) => this.#write('setMany', key, entry, ttl)))
  }

  async delete(key: string): Promise<boolean> {
    try {
      return (await this.#run(() => this.client.delete(storedKey(this.#prefix, key)))) === true
    } catch (error) {
      throw this.#fail('delete', error)
    }
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    const removed = await Promise.all([...new Set(keys)].map((key) => this.delete(key)))
    return removed.filter(Boolean).length
  }

  /** Deletes the keys under `prefix`, found with the LRU crawler (see the class comment). */
  async clear(prefix = ''): Promise<void> {
    if (this.#prefix === '' && prefix === '' && !this.#allowUnprefixedClear) {
      throw new ValidationError(
        'clear() with no prefix on a layer with an empty "prefix" would empty the whole server; ' +
          'set "allowUnprefixedClear: true" to allow it',
        'allowUnprefixedClear',
      )
    }
    const stored: string[] = []
    for await (const item of this.#walk(prefix, 'clear')) stored.push(item.stored)
    try {
      for (let i = 0; i < stored.length; i += BATCH) {
        await Promise.all(stored.slice(i, i + BATCH).map((key) => this.#run(() => this.client.delete(key))))
      }
    } catch (error) {
      throw this.#fail('clear', error)
    }
  }

  /** Iterates the live keys under `prefix`, found with the LRU crawler (see the class comment). */
  async *keys(prefix = ''): AsyncIterable<string> {
    const now = this.#clock.now()
    for await (const item of this.#walk(prefix, 'keys')) {
      if (item.expiresAt === 0 || item.expiresAt > now) yield item.key
    }
  }

  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined
  }

  async ttl(key: string): Promise<number | undefined> {
    const data = await this.#read('ttl', key)
    if (data === undefined) return undefined
    try {
      const { expiresAt } = unframe(data)
      return expiresAt === 0 ? Number.POSITIVE_INFINITY : expiresAt - this.#clock.now()
    } catch (error) {
      if (error instanceof CorruptedEntryError) return this.#discard('ttl', key, error)
      throw this.#fail('ttl', error)
    }
  }

  /** A get of a key nobody writes: memjs has no NOOP or VERSION call. */
  async ping(): Promise<void> {
    try {
      await this.#run(() => this.client.get(`${this.#prefix}#ping`))
    } catch (error) {
      throw this.#fail('ping', error)
    }
  }

  /** Closes the client when the layer created it; a client given in `options.client` stays open. */
  async dispose(): Promise<void> {
    if (this.#disposed) return
    this.#disposed = true
    if (this.#ownsClient) this.client.close()
  }

  /** The raw value, or undefined when absent or past its exact expiry. */
  async #read(operation: string, key: string): Promise<Buffer | undefined> {
    let value: Buffer | null
    try {
      value = (await this.#run(() => this.client.get(storedKey(this.#prefix, key)))).value
    } catch (error) {
      throw this.#fail(operation, error)
    }
    if (value === null) return undefined
    // The frame's expiry sits at a fixed place: check it before decoding anything else.
    if (value.length >= 9 && value[0] === 1) {
      const expiresAt = value.readDoubleBE(1)
      if (expiresAt !== 0 && expiresAt <= this.#clock.now()) return undefined
    }
    return value
  }

  async #decode(operation: string, key: string, data: Buffer): Promise<CacheEntry | undefined> {
    try {
      return await this.#codec.decodeBytes(unframe(data).payload, this.#context?.isDead)
    } catch (error) {
      if (error instanceof CorruptedEntryError) return this.#discard(operation, key, error)
      throw this.#fail(operation, error)
    }
  }

  async #write(operation: string, key: string, entry: CacheEntry, ttl: number | undefined): Promise<void> {
    if (ttl !== undefined && (typeof ttl !== 'number' || Number.isNaN(ttl))) {
      throw new ValidationError(`"ttl" must be a number of milliseconds; got ${String(ttl)}`, 'ttl')
    }
    let payload: string | Buffer
    try {
      payload = await this.#codec.encode(entry)
    } catch (error) {
      throw new LayerError(this.name, operation, error)
    }
    const stored = storedKey(this.#prefix, key)
    const forever = ttl === undefined || ttl === Number.POSITIVE_INFINITY
    const expiresAt = forever ? 0 : this.#clock.now() + Math.max(1, Math.ceil(ttl))
    const value = frame(payload, expiresAt, isHashedKey(stored.slice(this.#prefix.length)) ? key : undefined)
    // The server's expiry is counted on its own clock (and absolute past 30 days): wall time, not the stack's.
    const expires = toExptime(ttl, Date.now())
    try {
      await this.#run(() => this.client.set(stored, value, { expires }))
    } catch (error) {
      if (error instanceof Error && /too large/i.test(error.message)) {
        throw new LayerError(this.name, operation, new ItemTooLargeError(key, value.length, error))
      }
      throw this.#fail(operation, error)
    }
  }

  /**
   * The stored keys under `prefix` with their user key and expiry. Literal keys are matched by name;
   * hashed keys are read to learn the key they stand for (and every candidate is read for its expiry).
   */
  async *#walk(
    prefix: string,
    operation: string,
  ): AsyncGenerator<{ stored: string; key: string; expiresAt: number }> {
    let candidates: string[]
    try {
      const lists = await Promise.all(
        this.client.servers.map((server) => dumpKeys(server.host, server.port, this.#timeout)),
      )
      const strip = this.#prefix.length
      candidates = lists.flat().filter((stored) => {
        if (!stored.startsWith(this.#prefix)) return false
        const rest = stored.slice(strip)
        return isHashedKey(rest) ? rest !== '#ping' : rest.startsWith(prefix)
      })
    } catch (error) {
      throw this.#fail(operation, error)
    }
    for (let i = 0; i < candidates.length; i += BATCH) {
      const batch = candidates.slice(i, i + BATCH)
      let values: (Buffer | null)[]
      try {
        values = await Promise.all(
          batch.map((stored) => this.#run(() => this.client.get(stored)).then((r) => r.value)),
        )
      } catch (error) {
        throw this.#fail(operation, error)
      }
      for (let j = 0; j < batch.length; j++) {
        const data = values[j]
        if (!data) continue
        let parts: ReturnType<typeof unframe>
        try {
          parts = unframe(data)
        } catch {
          continue
        }
        const stored = batch[j]!
        const key = parts.originalKey ?? stored.slice(this.#prefix.length)
        if (key.startsWith(prefix)) yield { stored, key, expiresAt: parts.expiresAt }
      }
    }
  }

  async #discard(operation: string, key: string, error: CorruptedEntryError): Promise<undefined> {
    this.#context?.reportError(error, operation, key)
    try {
      await this.#run(() => this.client.delete(storedKey(this.#prefix, key)))
    } catch {
      // The key expires or is overwritten eventually; the read itself already answered.
    }
    return undefined
  }

  /** Bounds one command by `commandTimeout`, whatever memjs does meanwhile (connects, retries). */
  #run<T>(send: () => Promise<T>): Promise<T> {
    if (this.#disposed && this.#ownsClient) {
      return Promise.reject(new Error('the layer was disposed'))
    }
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CommandTimeoutError(this.#timeout, 'memcached')), this.#timeout)
    })
    return Promise.race([send(), late]).finally(() => clearTimeout(timer))
  }

  #fail(operation: string, error: unknown): LayerError {
    return error instanceof LayerError ? error : new LayerError(this.name, operation, error)
  }
}

import type { ChainableCommander, Cluster, Redis } from 'ioredis'
import { LayerError, ValidationError } from '../errors.ts'
import { keySlot } from '../internal/key-slot.ts'
import { CorruptedEntryError, EntryCodec } from '../internal/serialization.ts'
import { serializerValues, type ValueSupport } from '../internal/value-check.ts'
import type { Announcement, CacheEntry, CacheLayer, LayerContext, LayerWrite, WriteFence } from '../layer.ts'
import { RedisBudget } from './redis-budget.ts'
import {
  escapeGlob,
  execPipeline,
  isCluster,
  mgetPayloads,
  perSlot,
  scanKeys,
  toPx,
  unlinkOnNode,
} from './redis-commands.ts'
import { ConnectionWatch, closeClient } from './redis-connection.ts'
import { fencedSet } from './redis-fenced-set.ts'
import { normalizeRedisLayerOptions, type RedisLayerOptions } from './redis-options.ts'
import { stateResult, writeStatesScript } from './redis-states.ts'

export type { RedisLayerOptions } from './redis-options.ts'

/**
 * The shared layer, on ioredis (a single server or a Redis Cluster). Each key holds the whole entry
 * (value and freshness metadata), serialized, under `prefix + key`, with the physical TTL as `PX`.
 * Bytes that cannot be decoded are a miss: the key is deleted and the error reported to the stack.
 */
export class RedisLayer implements CacheLayer {
  readonly name: string
  readonly isLocal = false
  /** Plain JSON with `'json'`; dates, byte arrays and NaN too with `'msgpack'`; a custom serializer is trusted. */
  readonly storable: ValueSupport
  /** The ioredis client in use (given or created). */
  readonly client: Redis | Cluster
  readonly #cluster: Cluster | undefined
  readonly #ownsClient: boolean
  readonly #prefix: string
  readonly #codec: EntryCodec
  readonly #bytes: boolean
  readonly #watch: ConnectionWatch
  /** How long one command may wait for Redis (the `commandTimeout` option, in ms). */
  readonly commandTimeout: number
  readonly #allowUnprefixedClear: boolean
  readonly #keepUnreadable: boolean
  #context: LayerContext | undefined
  readonly #foreignOwners = new WeakSet<object>() // lease clients found on another Redis (fencedSet)
  /** The soft memory budget (the `budget` option), or `undefined`. */
  readonly budget: RedisBudget | undefined

  constructor(options: RedisLayerOptions) {
    const normalized = normalizeRedisLayerOptions(options)
    this.name = normalized.name
    this.client = normalized.client
    this.#cluster = isCluster(normalized.client) ? normalized.client : undefined
    this.#ownsClient = normalized.ownsClient
    this.#prefix = normalized.prefix
    this.#codec = new EntryCodec(normalized.codec)
    this.storable = serializerValues(normalized.codec.serializer)
    this.#keepUnreadable = normalized.keepUnreadable
    this.#bytes = this.#codec.needsBytes
    this.#allowUnprefixedClear = normalized.allowUnprefixedClear
    this.commandTimeout = normalized.commandTimeout
    // Given or created, the client's connection errors go to the stack's `error` event (once per outage).
    this.#watch = new ConnectionWatch(this.client, normalized.commandTimeout, (error) =>
      this.#context?.reportError(error, 'connection'),
    )
    const target = { client: this.client, cluster: this.#cluster, prefix: this.#prefix }
    const now = () => this.#context?.clock.now() ?? Date.now()
    const run = <T>(send: () => Promise<T>) => this.#run(send)
    this.budget =
      normalized.budget === undefined
        ? undefined
        : new RedisBudget({ ...target, now, run }, normalized.budget)
  }

  attach(context: LayerContext): void {
    this.#context = context
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    try {
      if (!this.#bytes) {
        // Plain JSON: one GET as a string and one JSON.parse, nothing else on the way.
        const reading = this.#run(() => this.client.get(this.#prefix + key))
        if (this.budget?.counts(key)) this.budget.touch(key) // behind the GET: the answer does not wait for it
        const text = await reading
        if (text === null) return undefined
        const entry = this.#codec.decodeText(text, this.#context?.isDead)
        if (entry !== undefined) return entry
      }
      const buffered = this.#run(() => this.client.getBuffer(this.#prefix + key))
      if (this.#bytes && this.budget?.counts(key)) this.budget.touch(key)
      const data = await buffered
      if (data === null) return undefined
      return await this.#codec.decodeBytes(data, this.#context?.isDead)
    } catch (error) {
      if (error instanceof CorruptedEntryError) return this.#discard(key, error)
      throw this.#fail('get', error)
    }
  }

  async getMany(keys: readonly string[]): Promise<(CacheEntry | undefined)[]> {
    if (keys.length === 0) return []
    const fullKeys = keys.map((key) => this.#prefix + key)
    for (const key of keys) if (this.budget?.counts(key)) this.budget.touch(key)
    let payloads: (string | Buffer | null)[]
    try {
      payloads = await this.#run(() => mgetPayloads(this.client, this.#cluster, this.#bytes, fullKeys))
    } catch (error) {
      throw this.#fail('getMany', error)
    }
    return Promise.all(payloads.map((payload, i) => this.#decodeOne(keys[i]!, payload)))
  }

  async set(key: string, entry: CacheEntry, ttl: number | undefined): Promise<void> {
    const px = toPx(ttl)
    const payload = this.#encodeNow('set', entry) ?? (await this.#encode('set', entry))
    try {
      const fullKey = this.#prefix + key
      if (this.budget?.counts(key)) await this.budget.write(key, payload, px)
      else
        await this.#run(() =>
          px === undefined ? this.client.set(fullKey, payload) : this.client.set(fullKey, payload, 'PX', px),
        )
    } catch (error) {
      throw this.#fail('set', error)
    }
  }

  /** `prefix + key`: where the entry lives, so a single-flight can keep its lease in the same slot. */
  storageKey(key: string): string {
    return this.#prefix + key
  }

  /**
   * Writes only while the single-flight lease `fence` still holds, checked and written in one script
   * (see `fencedSet`): a holder that lost its lease after its own check cannot overwrite a newer value.
   */
  async setFenced(
    key: string,
    entry: CacheEntry,
    ttl: number | undefined,
    fence: WriteFence,
  ): Promise<boolean> {
    const fullKey = this.#prefix + key
    const px = toPx(ttl)
    const payload = await this.#encode('set', entry)
    try {
      const written = await fencedSet(
        {
          client: this.client,
          sameSlot: !this.#cluster || keySlot(fence.leaseKey) === keySlot(fullKey),
          foreignOwners: this.#foreignOwners,
          run: (send) => this.#run(send),
          set: () => this.set(key, entry, ttl),
        },
        fullKey,
        payload,
        px,
        fence,
      )
      if (written && this.budget?.counts(key)) await this.budget.record(key, payload)
      return written
    } catch (error) {
      throw this.#fail('set', error)
    }
  }

  async setMany(writes: readonly LayerWrite[]): Promise<void> {
    if (writes.length === 0) return
    // Under a budget each counted entry is written (and makes room) on its own; tag states stay batched.
    const budget = this.budget
    if (budget && writes.some(({ key }) => budget.counts(key))) {
      await Promise.all(writes.map(({ key, entry, ttl }) => this.set(key, entry, ttl)))
      return
    }
    const pxs = writes.map(({ ttl }) => toPx(ttl))
    const payloads = await Promise.all(writes.map(({ entry }) => this.#encode('setMany', entry)))
    const fullKeys = writes.map(({ key }) => this.#prefix + key)
    const add = (pipeline: ChainableCommander, i: number) => {
      const px = pxs[i]
      if (px === undefined) pipeline.set(fullKeys[i]!, payloads[i]!)
      else pipeline.set(fullKeys[i]!, payloads[i]!, 'PX', px)
    }
    try {
      const cluster = this.#cluster
      if (cluster) {
        await this.#run(() =>
          perSlot(cluster, fullKeys, (p, positions) => {
            for (const i of positions) add(p, i)
          }),
        )
        return
      }
      const pipeline = this.client.pipeline()
      for (let i = 0; i < fullKeys.length; i++) add(pipeline, i)
      await this.#run(() => execPipeline(pipeline))
    } catch (error) {
      throw this.#fail('setMany', error)
    }
  }

  /** Tag states in one round trip (see `redis-states.ts`): a later stored state is answered, not overwritten. */
  async writeStates(writes: readonly LayerWrite[], keepAfter?: number, force = false, post?: Announcement) {
    const cluster = this.#cluster !== undefined
    const send = () => writeStatesScript(this.client, cluster, this.#prefix, writes, keepAfter, force, post)
    const replies = await this.#run(send).catch((error) => Promise.reject(this.#fail('writeStates', error)))
    return replies.map((reply) => stateResult(reply))
  }

  async delete(key: string): Promise<boolean> {
    try {
      const forgotten = this.budget?.forget([key])
      const removed = await this.#run(() => this.client.unlink(this.#prefix + key))
      await forgotten
      return removed > 0
    } catch (error) {
      throw this.#fail('delete', error)
    }
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0
    const fullKeys = [...new Set(keys)].map((key) => this.#prefix + key)
    try {
      await this.budget?.forget(keys)
      const cluster = this.#cluster
      if (!cluster) return await this.#run(() => this.client.unlink(...fullKeys))
      const replies = await this.#run(() =>
        perSlot(cluster, fullKeys, (pipeline, positions) => {
          pipeline.unlink(...positions.map((i) => fullKeys[i]!))
        }),
      )
      return replies.reduce((sum, { reply }) => sum + Number(reply), 0)
    } catch (error) {
      throw this.#fail('deleteMany', error)
    }
  }

  async clear(prefix = ''): Promise<void> {
    const fullPrefix = this.#prefix + prefix
    if (fullPrefix === '' && !this.#allowUnprefixedClear) {
      throw new ValidationError(
        'clear() with no prefix on a layer with an empty "prefix" would empty the whole database; ' +
          'set "allowUnprefixedClear: true" to allow it',
        'allowUnprefixedClear',
      )
    }
    const pattern = `${escapeGlob(fullPrefix)}*`
    try {
      const nodes = await this.#nodes()
      await Promise.all(
        nodes.map(async (node) => {
          for await (const batch of scanKeys(node, pattern, (send) => this.#run(send))) {
            await this.#run(() => unlinkOnNode(node, batch, this.#cluster !== undefined))
          }
        }),
      )
    } catch (error) {
      throw this.#fail('clear', error)
    }
  }

  /**
   * Iterates the keys under `prefix` with `SCAN` (never `KEYS`), node by node on a cluster. As `SCAN`
   * promises, a key present throughout is yielded at least once, and may be yielded twice while Redis
   * resizes its tables.
   */
  async *keys(prefix = ''): AsyncIterable<string> {
    const pattern = `${escapeGlob(this.#prefix + prefix)}*`
    const strip = this.#prefix.length
    let nodes: Redis[]
    try {
      nodes = await this.#nodes()
    } catch (error) {
      throw this.#fail('keys', error)
    }
    for (const node of nodes) {
      const batches = scanKeys(node, pattern, (send) => this.#run(send))
      while (true) {
        let next: IteratorResult<string[]>
        try {
          next = await batches.next()
        } catch (error) {
          throw this.#fail('keys', error)
        }
        if (next.done) break
        for (const key of next.value) yield key.slice(strip)
      }
    }
  }

  async has(key: string): Promise<boolean> {
    try {
      return (await this.#run(() => this.client.exists(this.#prefix + key))) === 1
    } catch (error) {
      throw this.#fail('has', error)
    }
  }

  async ttl(key: string): Promise<number | undefined> {
    let remaining: number
    try {
      remaining = await this.#run(() => this.client.pttl(this.#prefix + key))
    } catch (error) {
      throw this.#fail('ttl', error)
    }
    if (remaining === -2) return undefined
    return remaining === -1 ? Number.POSITIVE_INFINITY : remaining
  }

  async ping(): Promise<void> {
    try {
      await this.#run(() => this.client.ping())
    } catch (error) {
      throw this.#fail('ping', error)
    }
  }

  /**
   * Quits the client when the layer created it; a client given in `options.client` stays open (and is
   * the caller's to close). Returns within `commandTimeout`: a Redis that does not answer `QUIT` in time,
   * or a connection that is down, is simply closed.
   */
  async dispose(): Promise<void> {
    const unavailable = this.#watch.unavailable
    this.#watch.dispose()
    if (this.#ownsClient) await closeClient(this.client, unavailable, this.commandTimeout)
  }

  async #decodeOne(key: string, payload: string | Buffer | null): Promise<CacheEntry | undefined> {
    if (payload === null) return undefined
    try {
      if (typeof payload !== 'string') return await this.#codec.decodeBytes(payload, this.#context?.isDead)
      const entry = this.#codec.decodeText(payload, this.#context?.isDead)
      // A binary payload (another instance compressed it) read as text: read its bytes again.
      return entry ?? (await this.get(key))
    } catch (error) {
      if (error instanceof CorruptedEntryError) return this.#discard(key, error, 'getMany')
      throw this.#fail('getMany', error)
    }
  }

  /** Plain JSON without compression is encoded in place: no promise, no extra microtask turn per write. */
  #encodeNow(operation: string, entry: CacheEntry): string | undefined {
    try {
      return this.#codec.encodeText(entry)
    } catch (error) {
      throw new LayerError(this.name, operation, error)
    }
  }

  async #encode(operation: string, entry: CacheEntry): Promise<string | Buffer> {
    try {
      return await this.#codec.encode(entry)
    } catch (error) {
      throw new LayerError(this.name, operation, error)
    }
  }

  /**
   * Treats undecodable bytes as a miss: deletes them so that the next read does not pay again, and
   * reports why. A concurrent writer's fresh value may be deleted too, which only costs a miss.
   */
  async #discard(key: string, error: CorruptedEntryError, operation = 'get'): Promise<undefined> {
    this.#context?.reportError(error, operation, key)
    if (this.#keepUnreadable) return undefined
    try {
      await this.#run(() => this.client.unlink(this.#prefix + key))
    } catch {
      // The key expires or is overwritten eventually; the read itself already answered.
    }
    return undefined
  }

  async #nodes(): Promise<Redis[]> {
    if (!this.#cluster) return [this.client as Redis]
    let masters = this.#cluster.nodes('master')
    if (masters.length === 0) {
      // The node list fills in once the cluster has connected; a PING waits for that.
      const cluster = this.#cluster
      await this.#run(() => cluster.ping())
      masters = this.#cluster.nodes('master')
    }
    return masters
  }

  #run<T>(send: () => Promise<T>): Promise<T> {
    return this.#watch.run(send)
  }

  #fail(operation: string, error: unknown): LayerError {
    return error instanceof LayerError ? error : new LayerError(this.name, operation, error)
  }
}

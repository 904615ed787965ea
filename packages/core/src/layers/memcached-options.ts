import { ValidationError } from '../errors.ts'
import type { CompressionName } from '../internal/compression.ts'
import { assertKnownOptions, optionNames } from '../internal/known-options.ts'
import { type MemjsClient, memjs } from '../internal/memjs.ts'
import type { EntryCodecOptions, SerializerOption } from '../internal/serialization.ts'
import { type Duration, optionalDuration, parseSize, type Size } from '../internal/units.ts'

/** Options of `MemcachedLayer`. Give exactly one of `client` or `servers`. */
export interface MemcachedLayerOptions {
  /** A memjs `Client`; the layer never quits a client it was given. */
  client?: MemjsClient | undefined
  /** `'host:port'` or `'host1:port,host2:port'` (memjs syntax); the layer creates the client and quits it on `dispose`. */
  servers?: string | undefined
  /** memjs options for a client the layer creates (`username`, `password`, `keepAlive`...), passed as they are (except `expires`: entries carry their own). */
  memjsOptions?: Record<string, unknown> | undefined
  /** Layer name used in stats, events and per-layer TTL maps. @default 'memcached' */
  name?: string | undefined
  /** Prepended to every key stored; printable ASCII without spaces, at most 100 bytes. @default 'cachestack:' */
  prefix?: string | undefined
  /** `'json'`, `'msgpack'` or `{ serialize, deserialize }`, as for `RedisLayer`. @default 'json' */
  serializer?: SerializerOption | undefined
  /** Compress serialized entries larger than `compressionThreshold`. @default undefined (no compression) */
  compression?: CompressionName | undefined
  /** Serialized size above which an entry is compressed. @default '1kb' */
  compressionThreshold?: Size | undefined
  /** A compressed entry that would inflate past this is treated as corrupted (a miss). @default '64mb' */
  maxDecompressedSize?: Size | undefined
  /** A command that does not answer within this rejects with a `LayerError` (cause `CommandTimeoutError`). @default '1s' */
  commandTimeout?: Duration | undefined
  /** Let `clear()` run with an empty `prefix` (deletes every key of the server). @default false */
  allowUnprefixedClear?: boolean | undefined
}

/** `MemcachedLayerOptions` after validation. */
export interface NormalizedMemcachedLayerOptions {
  readonly client: MemjsClient
  readonly ownsClient: boolean
  readonly name: string
  readonly prefix: string
  readonly codec: EntryCodecOptions
  readonly commandTimeout: number
  readonly allowUnprefixedClear: boolean
}

const NAMES = optionNames<MemcachedLayerOptions>({
  client: true,
  servers: true,
  memjsOptions: true,
  name: true,
  prefix: true,
  serializer: true,
  compression: true,
  compressionThreshold: true,
  maxDecompressedSize: true,
  commandTimeout: true,
  allowUnprefixedClear: true,
})

/** @default commandTimeout of `MemcachedLayer`. */
export const DEFAULT_MEMCACHED_TIMEOUT = 1_000
const DEFAULT_PREFIX = 'cachestack:'
// Leaves room for a 64-character hashed key under the 250-byte limit of memcached keys.
const MAX_PREFIX_BYTES = 100
const WHAT = 'an option of new MemcachedLayer()'

/** Validates `options` once; every problem throws a `ValidationError` naming the option. */
export function normalizeMemcachedLayerOptions(
  options: MemcachedLayerOptions,
): NormalizedMemcachedLayerOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('MemcachedLayer options must be an object', 'options')
  }
  // memjs's own options live in `memjsOptions`, so this list stays checkable.
  assertKnownOptions(options, NAMES, WHAT)
  const name = options.name ?? 'memcached'
  if (typeof name !== 'string' || name === '') {
    throw new ValidationError(`"name" must be a non-empty string; got ${String(name)}`, 'name')
  }
  const prefix = options.prefix ?? DEFAULT_PREFIX
  if (typeof prefix !== 'string' || !/^[\x21-\x7e]*$/.test(prefix) || prefix.length > MAX_PREFIX_BYTES) {
    throw new ValidationError(
      `"prefix" must be printable ASCII without spaces, at most ${MAX_PREFIX_BYTES} bytes; got ${JSON.stringify(prefix)}`,
      'prefix',
    )
  }
  const serializer = options.serializer ?? 'json'
  if (
    serializer !== 'json' &&
    serializer !== 'msgpack' &&
    !(
      typeof serializer === 'object' &&
      serializer !== null &&
      typeof serializer.serialize === 'function' &&
      typeof serializer.deserialize === 'function'
    )
  ) {
    throw new ValidationError(
      `"serializer" must be 'json', 'msgpack' or { serialize, deserialize }; got ${String(serializer)}`,
      'serializer',
    )
  }
  const compression = options.compression
  if (compression !== undefined && compression !== 'gzip' && compression !== 'brotli') {
    throw new ValidationError(
      `"compression" must be 'gzip' or 'brotli'; got ${String(compression)}`,
      'compression',
    )
  }
  const compressionThreshold = parseSize(options.compressionThreshold ?? '1kb', 'compressionThreshold')
  const maxDecompressedSize = parseSize(options.maxDecompressedSize ?? '64mb', 'maxDecompressedSize')
  if (maxDecompressedSize < 1) {
    throw new ValidationError('"maxDecompressedSize" must be at least 1 byte', 'maxDecompressedSize')
  }
  const commandTimeout =
    optionalDuration(options.commandTimeout, 'commandTimeout') ?? DEFAULT_MEMCACHED_TIMEOUT
  if (commandTimeout < 1) {
    throw new ValidationError(
      `"commandTimeout" must be at least 1 ms; got ${commandTimeout}`,
      'commandTimeout',
    )
  }
  const allowUnprefixedClear = options.allowUnprefixedClear ?? false
  if (typeof allowUnprefixedClear !== 'boolean') {
    throw new ValidationError('"allowUnprefixedClear" must be a boolean', 'allowUnprefixedClear')
  }
  const { client, ownsClient } = resolveClient(options, commandTimeout)
  return {
    client,
    ownsClient,
    name,
    prefix,
    codec: { serializer, compression, compressionThreshold, maxDecompressedSize },
    commandTimeout,
    allowUnprefixedClear,
  }
}

function resolveClient(
  options: MemcachedLayerOptions,
  commandTimeout: number,
): { client: MemjsClient; ownsClient: boolean } {
  const { client, servers, memjsOptions } = options
  if ((client === undefined) === (servers === undefined)) {
    throw new ValidationError('give exactly one of "client" or "servers"', 'client')
  }
  if (client !== undefined) {
    const candidate = client as unknown as Record<string, unknown>
    if (
      typeof candidate !== 'object' ||
      candidate === null ||
      typeof candidate.get !== 'function' ||
      typeof candidate.set !== 'function' ||
      !Array.isArray(candidate.servers)
    ) {
      throw new ValidationError('"client" must be a memjs Client', 'client')
    }
    if (memjsOptions !== undefined) {
      throw new ValidationError(
        '"memjsOptions" only applies to a client the layer creates ("servers")',
        'memjsOptions',
      )
    }
    return { client, ownsClient: false }
  }
  if (typeof servers !== 'string' || servers.trim() === '') {
    throw new ValidationError('"servers" must be a non-empty string such as "127.0.0.1:11211"', 'servers')
  }
  if (memjsOptions !== undefined && (typeof memjsOptions !== 'object' || memjsOptions === null)) {
    throw new ValidationError('"memjsOptions" must be an object', 'memjsOptions')
  }
  // memjs's own timers get twice as long, so the layer's CommandTimeoutError is what callers see.
  const seconds = (2 * commandTimeout) / 1000
  const created = memjs().Client.create(servers, {
    // One attempt, bounded by the layer's timeout: memjs retries twice by default (0.2 s apart) and logs
    // every failure to the console; the layer reports failures as LayerErrors instead.
    retries: 1,
    timeout: seconds,
    conntimeout: seconds,
    logger: { log() {} },
    ...memjsOptions,
    // memjs replaces an expiry of 0 ("never", how the layer writes setForever) with this default.
    expires: 0,
  })
  return { client: created, ownsClient: true }
}

import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions } from 'ioredis'
import { ValidationError } from '../errors.ts'
import type { CompressionName } from '../internal/compression.ts'
import { ioredis } from '../internal/ioredis.ts'
import { assertKnownOptions, optionNames } from '../internal/known-options.ts'
import type { EntryCodecOptions, SerializerOption } from '../internal/serialization.ts'
import { type Duration, optionalDuration, parseSize, type Size } from '../internal/units.ts'
import { DEFAULT_COMMAND_TIMEOUT } from './redis-connection.ts'

/** Options of `RedisLayer`. Give exactly one of `client`, `url` / `redisOptions`, or `cluster`. */
export interface RedisLayerOptions {
  /** A connected ioredis `Redis` or `Cluster`; the layer never quits a client it was given. */
  client?: Redis | Cluster | undefined
  /** A Redis URL (`redis://user:pass@host:6379/0`); the layer creates the client and quits it on `dispose`. */
  url?: string | undefined
  /** ioredis options for a client the layer creates (merged with `url` when both are given). */
  redisOptions?: RedisOptions | undefined
  /** Startup nodes (and ioredis options) of a Redis Cluster the layer creates and quits on `dispose`. */
  cluster?: { nodes: ClusterNode[]; options?: ClusterOptions } | undefined
  /** Layer name used in stats, events and per-layer TTL maps. @default 'redis' */
  name?: string | undefined
  /** Prepended to every key stored; `clear()` only touches keys under it. @default 'cachestack:' */
  prefix?: string | undefined
  /**
   * How an entry becomes bytes: `'json'` (text, the fastest read), `'msgpack'` (binary, keeps
   * `Uint8Array` and `Date`), or `{ serialize(entry), deserialize(buffer) }`. @default 'json'
   */
  serializer?: SerializerOption | undefined
  /** Compress serialized entries larger than `compressionThreshold`. @default undefined (no compression) */
  compression?: CompressionName | undefined
  /** Serialized size above which an entry is compressed. @default '1kb' */
  compressionThreshold?: Size | undefined
  /** A compressed entry that would inflate past this is treated as corrupted (a miss). @default '64mb' */
  maxDecompressedSize?: Size | undefined
  /**
   * A command that does not answer within this rejects with a `LayerError` (cause `CommandTimeoutError`);
   * while the connection is down, or after such a timeout until Redis answers again, commands fail at
   * once (cause `RedisUnavailableError`). `dispose()` also returns within it. @default '1s'
   */
  commandTimeout?: Duration | undefined
  /** Let `clear()` run when both the layer prefix and the clear prefix are empty (wipes the database). @default false */
  allowUnprefixedClear?: boolean | undefined
  /**
   * Leave bytes this layer cannot decode in place (still a miss, still reported) instead of deleting
   * them: for a tool that reads a stack it did not write, such as the `cachestack` CLI, which lacks the
   * apps' custom serializer. @default false
   */
  keepUnreadable?: boolean | undefined
  /**
   * A soft byte budget (`'30mb'`) for the entries this layer writes, for a Redis shared with other data:
   * past it, the least recently used entries (by write or Redis read) are removed. The stack's own keys
   * (tag states, generation, locks, rate-limit windows) are never counted or removed.
   * @default undefined (no budget: Redis's own `maxmemory` policy applies)
   */
  budget?: Size | undefined
}

/** `RedisLayerOptions` after validation. */
export interface NormalizedRedisLayerOptions {
  readonly client: Redis | Cluster
  /** True when the layer created the client and must quit it. */
  readonly ownsClient: boolean
  readonly name: string
  readonly prefix: string
  readonly codec: EntryCodecOptions
  readonly commandTimeout: number
  readonly allowUnprefixedClear: boolean
  readonly keepUnreadable: boolean
  /** Byte budget, or `undefined`. */
  readonly budget: number | undefined
}

const REDIS_LAYER_OPTION_NAMES = optionNames<RedisLayerOptions>({
  client: true,
  url: true,
  redisOptions: true,
  cluster: true,
  name: true,
  prefix: true,
  serializer: true,
  compression: true,
  compressionThreshold: true,
  maxDecompressedSize: true,
  commandTimeout: true,
  allowUnprefixedClear: true,
  keepUnreadable: true,
  budget: true,
})
const CLUSTER_NAMES = optionNames<{ nodes: ClusterNode[]; options?: ClusterOptions }>({
  nodes: true,
  options: true,
})

const DEFAULT_PREFIX = 'cachestack:'
const DEFAULT_COMPRESSION_THRESHOLD = '1kb'
const DEFAULT_MAX_DECOMPRESSED_SIZE = '64mb'

/** Validates `options` once; every problem throws a `ValidationError` naming the option. */
export function normalizeRedisLayerOptions(options: RedisLayerOptions): NormalizedRedisLayerOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('RedisLayer options must be an object', 'options')
  }
  // ioredis's own options live in `redisOptions` / `cluster.options`, so these two lists stay checkable.
  assertKnownOptions(options, REDIS_LAYER_OPTION_NAMES, 'an option of new RedisLayer()')
  if (typeof options.cluster === 'object' && options.cluster !== null) {
    assertKnownOptions(options.cluster, CLUSTER_NAMES, 'an option of new RedisLayer()', 'cluster')
  }
  const name = options.name ?? 'redis'
  if (typeof name !== 'string' || name === '') {
    throw new ValidationError(`"name" must be a non-empty string; got ${String(name)}`, 'name')
  }
  const prefix = options.prefix ?? DEFAULT_PREFIX
  if (typeof prefix !== 'string') {
    throw new ValidationError(`"prefix" must be a string; got ${typeof prefix}`, 'prefix')
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
  const compressionThreshold = parseSize(
    options.compressionThreshold ?? DEFAULT_COMPRESSION_THRESHOLD,
    'compressionThreshold',
  )
  const maxDecompressedSize = parseSize(
    options.maxDecompressedSize ?? DEFAULT_MAX_DECOMPRESSED_SIZE,
    'maxDecompressedSize',
  )
  if (maxDecompressedSize < 1) {
    throw new ValidationError('"maxDecompressedSize" must be at least 1 byte', 'maxDecompressedSize')
  }
  const commandTimeout = optionalDuration(options.commandTimeout, 'commandTimeout') ?? DEFAULT_COMMAND_TIMEOUT
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
  const keepUnreadable = options.keepUnreadable ?? false
  if (typeof keepUnreadable !== 'boolean') {
    throw new ValidationError('"keepUnreadable" must be a boolean', 'keepUnreadable')
  }
  const budget = options.budget === undefined ? undefined : parseSize(options.budget, 'budget')
  if (budget !== undefined && budget < 1)
    throw new ValidationError('"budget" must be at least 1 byte', 'budget')
  const { client, ownsClient } = resolveClient(options)
  return {
    budget,
    client,
    ownsClient,
    name,
    prefix,
    codec: { serializer, compression, compressionThreshold, maxDecompressedSize },
    commandTimeout,
    allowUnprefixedClear,
    keepUnreadable,
  }
}

function resolveClient(options: RedisLayerOptions): { client: Redis | Cluster; ownsClient: boolean } {
  const { client, url, redisOptions, cluster } = options
  const sources = [client, url ?? redisOptions, cluster].filter((source) => source !== undefined).length
  if (sources !== 1) {
    throw new ValidationError('give exactly one of "client", "url" / "redisOptions", or "cluster"', 'client')
  }
  if (client !== undefined) {
    // Duck-typed: a second copy of ioredis in node_modules defeats `instanceof`.
    const candidate = client as unknown as Record<string, unknown>
    if (
      typeof candidate !== 'object' ||
      candidate === null ||
      typeof candidate.mget !== 'function' ||
      typeof candidate.pipeline !== 'function'
    ) {
      throw new ValidationError('"client" must be an ioredis Redis or Cluster', 'client')
    }
    return { client, ownsClient: false }
  }
  if (cluster !== undefined) {
    if (!Array.isArray(cluster.nodes) || cluster.nodes.length === 0) {
      throw new ValidationError('"cluster.nodes" must list at least one node', 'cluster.nodes')
    }
    return { client: new (ioredis().Cluster)(cluster.nodes, cluster.options), ownsClient: true }
  }
  if (url !== undefined && (typeof url !== 'string' || url === '')) {
    throw new ValidationError('"url" must be a non-empty string', 'url')
  }
  // ioredis holds a command through 20 reconnect attempts (~10 s) by default; the layer fails it when the
  // connection drops, and one retry keeps ioredis from sending it much later, after the layer gave up.
  const created = { maxRetriesPerRequest: 1, ...redisOptions }
  const { Redis: RedisClient } = ioredis()
  return {
    client: url === undefined ? new RedisClient(created) : new RedisClient(url, created),
    ownsClient: true,
  }
}

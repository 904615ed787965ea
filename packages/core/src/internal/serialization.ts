// How a CacheEntry becomes the bytes a shared store (Redis) holds, and back.
//
// Payload layout:
// - starts with `{` (0x7B): the entry as plain JSON text. The entry's own opening brace is the marker,
//   so the common case (JSON, no compression) needs no header and a read parses the string GET returned.
//   The value is written last (`{"createdAt":…,"tags":[…],"value":…}`): a reader parses the short head
//   first, and an entry the stack refuses whatever its value (a tag invalidated since it was written)
//   is handed back without its value being parsed (issue 18: the first read after an invalidation found
//   the dead ~1 KB entry in Redis and parsed all of it). Any other JSON object is read whole, so entries
//   written value-first by earlier versions, or by other tools, read as before.
// - starts with 0xF0..0xFA: a one-byte header `0xF0 | compression << 2 | format`, then the body.
//   format: 0 json, 1 msgpack, 2 custom; compression: 0 none, 1 gzip, 2 brotli.
// Any reader decodes any header it knows, so instances with different settings can share keys (except
// a custom serializer, which only its owner understands).
import { Decoder, Encoder } from '@msgpack/msgpack'
import { type CacheEntry, type EntryHead, markUnshared } from '../layer.ts'
import { type CompressionName, compress, decompress } from './compression.ts'
import { scanHead } from './entry-head.ts'

/** A custom serializer: turns a whole entry (value and freshness metadata) into bytes and back. */
export interface EntrySerializer {
  serialize(entry: CacheEntry): Buffer | Uint8Array | string
  deserialize(data: Buffer): CacheEntry
}

/** The serializers a Redis-like layer understands. */
export type SerializerOption = 'json' | 'msgpack' | EntrySerializer

/** Stored bytes that cannot be turned back into an entry: garbage, truncated, a bomb, a wrong shape. */
export class CorruptedEntryError extends Error {
  readonly code = 'E_CORRUPTED_ENTRY'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CorruptedEntryError'
  }
}

const BRACE = 0x7b
const CLOSING_BRACE = 0x7d
// Where the value starts in a value-last payload. Inside a JSON string every `"` is escaped, so this
// can only be a key of the object itself.
const VALUE_KEY = ',"value":'
const VALUE_FIRST = '{"value":'
const HEADER_BASE = 0xf0
const FORMATS = ['json', 'msgpack', 'custom'] as const
const COMPRESSIONS = [undefined, 'gzip', 'brotli'] as const
type FormatName = (typeof FORMATS)[number]

/** Whether the stack refuses an entry whatever its value (see `LayerContext.isDead`). */
export type DeadCheck = (head: EntryHead) => boolean

/** Settings of an `EntryCodec`, already validated. */
export interface EntryCodecOptions {
  serializer: SerializerOption
  compression: CompressionName | undefined
  /** Bytes above which the serialized entry is compressed. */
  compressionThreshold: number
  /** Decompressed bytes beyond which a payload is refused. */
  maxDecompressedSize: number
}

/** Encodes entries into payloads and decodes payloads of any known format. */
export class EntryCodec {
  /** True when reads should ask for bytes: the configured format is not plain JSON text. */
  readonly needsBytes: boolean
  readonly #format: FormatName
  readonly #custom: EntrySerializer | undefined
  readonly #compression: CompressionName | undefined
  readonly #threshold: number
  readonly #maxDecompressed: number
  readonly #encoder = new Encoder({ ignoreUndefined: true })
  readonly #decoder = new Decoder()

  constructor(options: EntryCodecOptions) {
    const { serializer } = options
    this.#format = typeof serializer === 'object' ? 'custom' : serializer
    this.#custom = typeof serializer === 'object' ? serializer : undefined
    this.#compression = options.compression
    this.#threshold = options.compressionThreshold
    this.#maxDecompressed = options.maxDecompressedSize
    this.needsBytes = this.#format !== 'json' || this.#compression !== undefined
  }

  /**
   * The payload without a promise when the layer stores plain JSON text uncompressed (the default);
   * `undefined` when `encode` must do the work. Throws what `JSON.stringify` throws.
   */
  encodeText(entry: CacheEntry): string | undefined {
    return this.#format === 'json' && !this.#compression ? JSON.stringify(valueLast(entry)) : undefined
  }

  /** The payload to store for `entry`; throws what the serializer throws (a cycle, a BigInt in JSON...). */
  async encode(entry: CacheEntry): Promise<string | Buffer> {
    let body: Uint8Array
    if (this.#format === 'json') {
      const text = JSON.stringify(valueLast(entry))
      if (!this.#compression || !this.#overThreshold(text)) return text
      body = Buffer.from(text, 'utf8')
    } else if (this.#format === 'msgpack') {
      // A view of the encoder's reusable buffer: copied below before anything else can encode.
      body = this.#encoder.encodeSharedRef(entry)
    } else {
      const out = this.#custom!.serialize(entry)
      body = typeof out === 'string' ? Buffer.from(out, 'utf8') : out
    }
    let compression = 0
    if (this.#compression && body.byteLength > this.#threshold) {
      const packed = await compress(Buffer.from(body), this.#compression)
      // Incompressible data (already compressed images, random tokens) is stored as it is.
      if (packed.length < body.byteLength) {
        body = packed
        compression = COMPRESSIONS.indexOf(this.#compression)
      }
    }
    const payload = Buffer.allocUnsafe(body.byteLength + 1)
    payload[0] = HEADER_BASE | (compression << 2) | FORMATS.indexOf(this.#format)
    payload.set(body, 1)
    return payload
  }

  /**
   * Decodes a payload read as a string. Answers `undefined` when the payload is binary and must be
   * read again as bytes; throws `CorruptedEntryError` when it is plain JSON that is not a valid entry.
   * An entry `dead` refuses by its head alone comes back with its value parsed on first access.
   */
  decodeText(text: string, dead?: DeadCheck): CacheEntry | undefined {
    if (text.charCodeAt(0) !== BRACE) return undefined
    return parseJson(text, dead)
  }

  /** Decodes a payload read as bytes; throws `CorruptedEntryError` when it cannot. `dead`: as `decodeText`. */
  async decodeBytes(data: Buffer, dead?: DeadCheck): Promise<CacheEntry> {
    const first = data[0]
    if (first === BRACE) return parseJson(data.toString('utf8'), dead)
    if (first === undefined || first < HEADER_BASE) throw new CorruptedEntryError('unknown payload header')
    const format = FORMATS[first & 0x03]
    const compression = COMPRESSIONS[(first >> 2) & 0x03]
    if (format === undefined || (first & 0x0c) === 0x0c) {
      throw new CorruptedEntryError(`unknown payload header 0x${first.toString(16)}`)
    }
    let body = data.subarray(1)
    if (compression) {
      try {
        body = await decompress(body, compression, this.#maxDecompressed)
      } catch (error) {
        throw new CorruptedEntryError(`cannot ${compression}-decompress the payload`, { cause: error })
      }
    }
    if (format === 'json') return parseJson(body.toString('utf8'), dead)
    if (format === 'msgpack') {
      let decoded: unknown
      try {
        decoded = this.#decoder.decode(body)
      } catch (error) {
        throw new CorruptedEntryError('invalid msgpack payload', { cause: error })
      }
      return checkEntry(decoded)
    }
    if (!this.#custom)
      throw new CorruptedEntryError('payload written by a custom serializer this layer lacks')
    let decoded: unknown
    try {
      decoded = this.#custom.deserialize(body)
    } catch (error) {
      throw new CorruptedEntryError('the custom serializer could not read the payload', { cause: error })
    }
    return checkEntry(decoded)
  }

  #overThreshold(text: string): boolean {
    // UTF-8 needs at least one byte and at most three per UTF-16 unit; measure only when in doubt.
    if (text.length > this.#threshold) return true
    if (text.length * 3 <= this.#threshold) return false
    return Buffer.byteLength(text, 'utf8') > this.#threshold
  }
}

/** The entry with its value last (JSON keeps this order), so a reader can stop before the value. */
function valueLast(entry: CacheEntry): CacheEntry {
  return {
    createdAt: entry.createdAt,
    freshUntil: entry.freshUntil,
    swrUntil: entry.swrUntil,
    graceUntil: entry.graceUntil,
    tags: entry.tags,
    namespace: entry.namespace,
    missing: entry.missing,
    sliding: entry.sliding,
    value: entry.value,
  }
}

function parseJson(text: string, dead: DeadCheck | undefined): CacheEntry {
  // With nothing to check, one parse of the whole is cheaper than a head and a value parsed apart.
  const cut = dead === undefined || text.startsWith(VALUE_FIRST) ? -1 : text.indexOf(VALUE_KEY)
  if (cut !== -1 && text.charCodeAt(text.length - 1) === CLOSING_BRACE) {
    const head = parseHead(text, cut)
    if (head !== undefined) {
      if (dead!(head)) return new DeadEntry(head, text) as CacheEntry
      try {
        ;(head as CacheEntry).value = JSON.parse(text.slice(cut + VALUE_KEY.length, -1))
        return markUnshared(head as CacheEntry)
      } catch {
        // Not one JSON value up to the closing brace: read whole below, which says what is wrong.
      }
    }
  }
  return checkEntry(parseWhole(text))
}

/** The fields before `"value"` as an entry head, or `undefined` when they are not one. */
function parseHead(text: string, cut: number): EntryHead | undefined {
  // As this library writes it, read without JSON.parse; anything else (older or foreign writers) parsed.
  const scanned = scanHead(text, cut)
  if (scanned !== undefined) return scanned
  let head: unknown
  try {
    head = JSON.parse(`${text.slice(0, cut)}}`)
  } catch {
    return undefined
  }
  return isEntryHead(head) ? head : undefined
}

function parseWhole(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new CorruptedEntryError('invalid JSON payload', { cause: error })
  }
}

/**
 * A dead entry: the stack never reads its value, but anyone else who does gets it (parsed on first
 * access and kept, `CorruptedEntryError` if it cannot be). Its fields are own properties as in any
 * entry, `value` included (an own getter, so spreading, `Object.keys` and `JSON.stringify` see it). A
 * class rather than the parsed head with the text and the getter defined on it: one `defineProperty`
 * instead of two, the same hidden class for every dead entry, and a private field that keeps the
 * parsed value on a frozen entry too. Building it still costs ~3 µs of a first read after an
 * invalidation when that read follows network I/O (issue 18); the head's own decode costs about as much.
 */
class DeadEntry {
  declare createdAt: number
  declare freshUntil: number
  declare swrUntil: number
  declare graceUntil: number
  declare tags?: string[]
  declare namespace?: string
  declare missing?: true
  declare sliding?: number
  declare readonly value: unknown
  readonly #text: string
  #parsed = false
  #value: unknown

  constructor(head: EntryHead, text: string) {
    this.#text = text
    this.createdAt = head.createdAt
    this.freshUntil = head.freshUntil
    this.swrUntil = head.swrUntil
    this.graceUntil = head.graceUntil
    // Absent fields stay absent: the entry has the keys it was written with.
    if (head.tags !== undefined) this.tags = head.tags
    if (head.namespace !== undefined) this.namespace = head.namespace
    if (head.missing !== undefined) this.missing = head.missing
    if (head.sliding !== undefined) this.sliding = head.sliding
    Object.defineProperty(this, 'value', DEAD_VALUE)
  }

  static parsedValue(entry: DeadEntry): unknown {
    if (!entry.#parsed) {
      entry.#value = checkEntry(parseWhole(entry.#text)).value
      entry.#parsed = true
    }
    return entry.#value
  }
}

const DEAD_VALUE: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: DeadEntry): unknown {
    return DeadEntry.parsedValue(this)
  },
}

/** Returns `value` when it has the shape of a `CacheEntry`; throws `CorruptedEntryError` otherwise. */
export function checkEntry(value: unknown): CacheEntry {
  if (isCacheEntry(value)) return markUnshared(value)
  throw new CorruptedEntryError('the payload is not a cache entry')
}

/** True when `value` has the shape of a `CacheEntry` (what a reader may rely on). */
export function isCacheEntry(value: unknown): value is CacheEntry {
  return isEntryHead(value) && (value as { value?: unknown }).value !== undefined
}

/** True when `value` has the shape of an entry's head: its times, tags and flags. */
function isEntryHead(value: unknown): value is EntryHead {
  if (typeof value !== 'object' || value === null) return false
  const entry = value as Record<string, unknown>
  if (!isTime(entry.createdAt) || !isTime(entry.freshUntil)) return false
  if (!isTime(entry.swrUntil) || !isTime(entry.graceUntil)) return false
  const { tags, namespace, missing } = entry
  if (missing !== undefined && missing !== true) return false
  if (tags !== undefined && !(Array.isArray(tags) && tags.every((tag) => typeof tag === 'string'))) {
    return false
  }
  return namespace === undefined || typeof namespace === 'string'
}

function isTime(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value)
}

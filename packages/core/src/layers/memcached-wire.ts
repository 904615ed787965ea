// How MemcachedLayer names and frames what it stores.
//
// Keys: memcached refuses keys over 250 bytes, and keys with spaces or control characters break the text
// protocol (and proxies such as mcrouter) even where the binary protocol would carry them. A key that is
// not short printable ASCII is stored under `prefix + '#' + sha256(key)`; a literal key starting with '#'
// is hashed too, so the two forms never meet.
//
// Value: `[version 1][expiresAt float64 BE, 0 = never][key length uint16 BE][original key, hashed keys
// only][codec payload]`. memcached cannot tell the remaining TTL of a key and counts whole seconds from its
// own clock, so the layer keeps the exact expiry (from the stack's clock) in the value and checks it on
// read; the server's own expiry, rounded up, only reclaims memory. The original key lets `keys()` list
// hashed keys as they were written.
import { createHash } from 'node:crypto'
import { CorruptedEntryError } from '../internal/serialization.ts'

/** memcached's key length limit, in bytes. */
export const MAX_KEY_BYTES = 250
const HASH_MARK = '#'
const VERSION = 1
const HEADER_BYTES = 11
/** memcached reads an expiry above 30 days as an absolute unix time. */
const RELATIVE_LIMIT_SECONDS = 30 * 86_400

/** The key memcached stores `key` under. */
export function storedKey(prefix: string, key: string): string {
  const full = prefix + key
  if (full.length <= MAX_KEY_BYTES && !key.startsWith(HASH_MARK) && /^[\x21-\x7e]*$/.test(key)) return full
  return `${prefix}${HASH_MARK}${createHash('sha256').update(key, 'utf8').digest('base64url')}`
}

/** Whether a stored key (prefix stripped) is a hashed one, whose original key lives in the value. */
export function isHashedKey(stripped: string): boolean {
  return stripped.startsWith(HASH_MARK)
}

/** The memcached `exptime` for a physical TTL in ms: 0 for none, else whole seconds rounded up, plus one. */
export function toExptime(ttl: number | undefined, wallNow: number): number {
  if (ttl === undefined || ttl === Number.POSITIVE_INFINITY) return 0
  // One second more than asked: memcached's clock ticks in whole seconds, and an item must not vanish
  // before the layer's own (exact) expiry says it is gone.
  const seconds = Math.ceil(ttl / 1000) + 1
  if (seconds <= RELATIVE_LIMIT_SECONDS) return seconds
  return Math.floor(wallNow / 1000) + seconds
}

/** Frames a codec payload with its expiry and, for hashed keys, the original key. */
export function frame(payload: string | Buffer, expiresAt: number, originalKey: string | undefined): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload
  const keyBytes = originalKey === undefined ? undefined : Buffer.from(originalKey, 'utf8')
  const keyLength = keyBytes?.length ?? 0
  const out = Buffer.allocUnsafe(HEADER_BYTES + keyLength + body.length)
  out[0] = VERSION
  out.writeDoubleBE(expiresAt, 1)
  out.writeUInt16BE(keyLength, 9)
  if (keyBytes) keyBytes.copy(out, HEADER_BYTES)
  body.copy(out, HEADER_BYTES + keyLength)
  return out
}

/** A stored value split into its parts. */
export interface Unframed {
  expiresAt: number
  originalKey: string | undefined
  payload: Buffer
}

/** Splits a stored value; throws `CorruptedEntryError` when it was not written by this layer. */
export function unframe(data: Buffer): Unframed {
  if (data.length < HEADER_BYTES || data[0] !== VERSION)
    throw new CorruptedEntryError('unknown memcached frame')
  const expiresAt = data.readDoubleBE(1)
  const keyLength = data.readUInt16BE(9)
  if (!(expiresAt >= 0) || HEADER_BYTES + keyLength > data.length) {
    throw new CorruptedEntryError('truncated memcached frame')
  }
  const originalKey =
    keyLength === 0 ? undefined : data.toString('utf8', HEADER_BYTES, HEADER_BYTES + keyLength)
  return { expiresAt, originalKey, payload: data.subarray(HEADER_BYTES + keyLength) }
}

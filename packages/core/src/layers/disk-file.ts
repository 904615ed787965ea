// One cache entry per file. The layout is a header line of JSON, then the payload bytes:
//
//   {"v":1,"key":"<key>","expiresAt":<ms or null>,"size":<payload bytes>,"crc":<crc32 of payload>}\n<payload>
//
// JSON escapes every control character inside strings, so the first 0x0A byte always ends the header
// whatever the key holds (NUL bytes, newlines). The header carries the key, so the in-memory index can be
// rebuilt from the directory by reading headers only, and the size and CRC catch a truncated or damaged
// payload, which is then a miss instead of garbage.
import { createHash, randomBytes } from 'node:crypto'
import { open, rename, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as zlib from 'node:zlib'
import { CorruptedEntryError } from '../internal/serialization.ts'

/** CRC-32 (IEEE), as `zlib.crc32` computes it; a table of our own where Node lacks it. */
export function crc32Fallback(data: Uint8Array): number {
  let crc = 0xffffffff
  for (let i = 0; i < data.length; i++) crc = CRC_TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})
// `zlib.crc32` arrived in Node 22.2 and engines allows 22.0: a named import would make all of
// @cachestack/core fail to load there, even for apps that never use the disk layer.
const crc32: (data: Uint8Array) => number =
  typeof zlib.crc32 === 'function' ? (data) => zlib.crc32(data) : crc32Fallback

/** What the header of an entry file says. */
export interface DiskFileHeader {
  readonly key: string
  /** Epoch ms after which the file is expired; `undefined` for never. */
  readonly expiresAt: number | undefined
}

/** A header plus what `stat` tells of the file, for rebuilding the index. */
export interface DiskFileInfo extends DiskFileHeader {
  readonly fileBytes: number
  readonly mtimeMs: number
}

const VERSION = 1
const NEWLINE = 0x0a
/** A file's name: the SHA-256 of its key, so no key can name a path outside the directory. */
export const ENTRY_FILE_NAME = /^[0-9a-f]{64}$/
/** A write in progress (or left behind by a crash): `<entry name>.<random>.tmp`. */
export const TEMP_FILE_NAME = /^[0-9a-f]{64}\.[0-9a-f]{16}\.tmp$/
// A key of a few megabytes is absurd but legal; reading a header stops at this size.
const MAX_HEADER_BYTES = 16 * 1024 * 1024
const HEADER_CHUNK = 16 * 1024

/** The file name holding `key`. */
export function entryFileName(key: string): string {
  // UTF-16 code units, not UTF-8: UTF-8 turns every lone surrogate into U+FFFD, so '\uD800' and '\uDBFF'
  // would share a file.
  return createHash('sha256').update(key, 'utf16le').digest('hex')
}

/** The bytes of an entry file. */
export function encodeEntryFile(key: string, expiresAt: number | undefined, payload: Buffer): Buffer {
  const header = JSON.stringify({
    v: VERSION,
    key,
    expiresAt: expiresAt ?? null,
    size: payload.length,
    crc: crc32(payload),
  })
  return Buffer.concat([Buffer.from(`${header}\n`, 'utf8'), payload])
}

/** Splits an entry file into its header and payload; throws `CorruptedEntryError` when it is damaged. */
export function decodeEntryFile(data: Buffer): { header: DiskFileHeader; payload: Buffer } {
  const end = data.indexOf(NEWLINE)
  if (end < 0) throw new CorruptedEntryError('entry file has no header')
  const raw = parseHeader(data.subarray(0, end))
  const payload = data.subarray(end + 1)
  if (payload.length !== raw.size) {
    throw new CorruptedEntryError(`entry file holds ${payload.length} payload bytes, header says ${raw.size}`)
  }
  if (crc32(payload) !== raw.crc) throw new CorruptedEntryError('entry file payload fails its checksum')
  return { header: raw, payload }
}

/**
 * Reads only the header of the file at `path` (a few kB for ordinary keys), for rebuilding the index.
 * Throws `CorruptedEntryError` when there is no valid header, and what `fs` throws otherwise.
 */
export async function readEntryHeader(path: string): Promise<DiskFileInfo> {
  const handle = await open(path, 'r')
  try {
    const { size, mtimeMs } = await handle.stat()
    const chunks: Buffer[] = []
    let read = 0
    while (read < Math.min(size, MAX_HEADER_BYTES)) {
      const chunk = Buffer.allocUnsafe(HEADER_CHUNK)
      const { bytesRead } = await handle.read(chunk, 0, HEADER_CHUNK, read)
      if (bytesRead === 0) break
      const part = chunk.subarray(0, bytesRead)
      const end = part.indexOf(NEWLINE)
      if (end >= 0) {
        chunks.push(part.subarray(0, end))
        const header = parseHeader(Buffer.concat(chunks))
        // A payload shorter than its header says is truncated; catching it here spares a read later.
        if (read + end + 1 + header.size !== size) throw new CorruptedEntryError('entry file is truncated')
        return { key: header.key, expiresAt: header.expiresAt, fileBytes: size, mtimeMs }
      }
      chunks.push(part)
      read += bytesRead
    }
    throw new CorruptedEntryError('entry file has no header')
  } finally {
    await handle.close()
  }
}

/**
 * Writes `data` to `directory/name` atomically: into a temporary file first, then renamed over the
 * target, so a concurrent reader sees the old file or the new one, never half of one. The temporary
 * file is removed when anything fails.
 */
export async function writeFileAtomic(directory: string, name: string, data: Buffer): Promise<void> {
  const temp = join(directory, `${name}.${randomBytes(8).toString('hex')}.tmp`)
  try {
    await writeFile(temp, data, { flag: 'wx' })
    await rename(temp, join(directory, name))
  } catch (error) {
    await unlink(temp).catch(() => {})
    throw error
  }
}

function parseHeader(bytes: Buffer): DiskFileHeader & { size: number; crc: number } {
  let raw: unknown
  try {
    raw = JSON.parse(bytes.toString('utf8'))
  } catch (error) {
    throw new CorruptedEntryError('entry file header is not JSON', { cause: error })
  }
  const header = raw as Record<string, unknown>
  if (
    typeof raw !== 'object' ||
    raw === null ||
    header.v !== VERSION ||
    typeof header.key !== 'string' ||
    !(
      header.expiresAt === null ||
      (typeof header.expiresAt === 'number' && Number.isFinite(header.expiresAt))
    ) ||
    typeof header.size !== 'number' ||
    !Number.isInteger(header.size) ||
    header.size < 0 ||
    typeof header.crc !== 'number'
  ) {
    throw new CorruptedEntryError('entry file header has the wrong shape')
  }
  return {
    key: header.key,
    expiresAt: header.expiresAt === null ? undefined : (header.expiresAt as number),
    size: header.size,
    crc: header.crc,
  }
}

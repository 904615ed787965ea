import { resolve } from 'node:path'
import { ValidationError } from '../errors.ts'
import { assertKnownOptions, optionNames } from '../internal/known-options.ts'
import type { SerializerOption } from '../internal/serialization.ts'
import { optionalSize, type Size } from '../internal/units.ts'

/** Options of `DiskLayer`. */
export interface DiskLayerOptions {
  /** The directory the entries live in, one file each; created when absent. Give each layer its own. */
  directory: string
  /** Layer name used in stats, events and per-layer TTL maps. @default 'disk' */
  name?: string | undefined
  /** Most files kept; the least recently used leave first. @default 10_000 */
  maxFiles?: number | undefined
  /** Total size of the files kept, e.g. `'500mb'`; the least recently used leave first. @default '1gb' */
  maxBytes?: Size | undefined
  /** Files larger than this are refused with a `LayerError`; at most `maxBytes`. @default maxBytes */
  maxEntryBytes?: Size | undefined
  /**
   * How an entry becomes bytes: `'json'` (text), `'msgpack'` (binary, keeps `Uint8Array` and `Date`),
   * or `{ serialize(entry), deserialize(buffer) }`. @default 'json'
   */
  serializer?: SerializerOption | undefined
}

/** `DiskLayerOptions` after validation. */
export interface NormalizedDiskLayerOptions {
  /** Absolute path of the directory. */
  readonly directory: string
  readonly name: string
  readonly maxFiles: number
  readonly maxBytes: number
  readonly maxEntryBytes: number
  readonly serializer: SerializerOption
}

const DISK_LAYER_OPTION_NAMES = optionNames<DiskLayerOptions>({
  directory: true,
  name: true,
  maxFiles: true,
  maxBytes: true,
  maxEntryBytes: true,
  serializer: true,
})

const DEFAULT_MAX_FILES = 10_000
const DEFAULT_MAX_BYTES = 1024 ** 3

/** Validates `options` once; every problem throws a `ValidationError` naming the option. */
export function normalizeDiskLayerOptions(options: DiskLayerOptions): NormalizedDiskLayerOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('DiskLayer options must be an object', 'options')
  }
  assertKnownOptions(options, DISK_LAYER_OPTION_NAMES, 'an option of new DiskLayer()')
  const { directory } = options
  if (typeof directory !== 'string' || directory === '' || directory.includes('\0')) {
    throw new ValidationError('"directory" must be a non-empty path', 'directory')
  }
  const name = options.name ?? 'disk'
  if (typeof name !== 'string' || name === '') {
    throw new ValidationError(`"name" must be a non-empty string; got ${String(name)}`, 'name')
  }
  const maxFiles = options.maxFiles ?? DEFAULT_MAX_FILES
  if (typeof maxFiles !== 'number' || !Number.isInteger(maxFiles) || maxFiles < 1) {
    throw new ValidationError(`"maxFiles" must be a positive integer; got ${String(maxFiles)}`, 'maxFiles')
  }
  const maxBytes = optionalSize(options.maxBytes, 'maxBytes') ?? DEFAULT_MAX_BYTES
  if (maxBytes < 1) throw new ValidationError('"maxBytes" must be at least 1 byte', 'maxBytes')
  const maxEntryBytes = optionalSize(options.maxEntryBytes, 'maxEntryBytes') ?? maxBytes
  if (maxEntryBytes < 1 || maxEntryBytes > maxBytes) {
    throw new ValidationError('"maxEntryBytes" must be between 1 byte and "maxBytes"', 'maxEntryBytes')
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
  return { directory: resolve(directory), name, maxFiles, maxBytes, maxEntryBytes, serializer }
}

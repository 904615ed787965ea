// Snapshot files: paths confined to a base directory, atomic writes, and a parse that cannot touch a
// prototype. Knows nothing of the stack: it moves text between memory and one file.

import { randomBytes } from 'node:crypto'
import { lstat, open, readFile, realpath, rename, unlink } from 'node:fs/promises'
import { dirname, isAbsolute, relative, resolve } from 'node:path'
import { SnapshotError, SnapshotPathError, ValidationError } from '../errors.ts'

/** The `snapshotBaseDir` option resolved once, at construction (a later `chdir` does not move it). */
export function resolveBaseDir(option: unknown): string {
  if (option === undefined) return process.cwd()
  if (typeof option !== 'string' || option.length === 0 || option.includes('\0')) {
    throw new ValidationError('"snapshotBaseDir" must be a non-empty directory path', 'snapshotBaseDir')
  }
  return resolve(option)
}

function inside(base: string, target: string): boolean {
  const rel = relative(base, target)
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)
}

/**
 * The absolute path of a snapshot file, refused with `SnapshotPathError` unless it lies inside `base`
 * both as written and once symbolic links are followed (the file itself when it exists, else its
 * directory). A link swapped in after this check is outside what a path check can stop; the base
 * directory is meant to be one the application owns.
 */
export async function confinedPath(base: string, path: unknown): Promise<string> {
  if (typeof path !== 'string' || path.length === 0 || path.includes('\0')) {
    throw new ValidationError('"path" must be a non-empty file path', 'path')
  }
  const target = resolve(base, path)
  if (!inside(base, target))
    throw new SnapshotPathError(path, `it is outside the snapshot base directory ${base}`)
  const realBase = await realpath(base).catch((cause) => {
    throw new SnapshotPathError(
      path,
      `the snapshot base directory ${base} is not readable (${String(cause)})`,
    )
  })
  let real: string
  try {
    real = await realpath(target)
  } catch {
    // Not there yet (persist): its directory must exist and resolve inside the base.
    const realDir = await realpath(dirname(target)).catch(() => {
      throw new SnapshotPathError(path, 'its directory does not exist')
    })
    real = resolve(realDir, relative(dirname(target), target))
  }
  if (!inside(realBase, real)) {
    throw new SnapshotPathError(path, 'a symbolic link leads outside the snapshot base directory')
  }
  return target
}

/**
 * Writes `text` to `target` through a temporary file in the same directory (created exclusively, so
 * an existing file or link there is never followed), flushed, then renamed over `target`: a reader
 * sees the old file or the new one, never half of one. The temporary file is removed on failure.
 */
export async function writeAtomically(target: string, text: string): Promise<void> {
  const temp = `${target}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  const handle = await open(temp, 'wx', 0o600)
  try {
    try {
      await handle.writeFile(text, 'utf8')
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temp, target)
  } catch (error) {
    await unlink(temp).catch(() => {})
    throw error
  }
}

/** Reads and parses a snapshot file; a missing, unreadable or malformed file is a `SnapshotError`. */
export async function readSnapshotText(target: string): Promise<unknown> {
  const stat = await lstat(target).catch((cause) => {
    throw new SnapshotError(`Snapshot file ${target} cannot be read`, cause)
  })
  if (!stat.isFile() && !stat.isSymbolicLink())
    throw new SnapshotError(`Snapshot path ${target} is not a file`)
  const text = await readFile(target, 'utf8').catch((cause) => {
    throw new SnapshotError(`Snapshot file ${target} cannot be read`, cause)
  })
  try {
    return parseSnapshotJson(text)
  } catch (cause) {
    throw new SnapshotError(`Snapshot file ${target} is corrupted or truncated: ${String(cause)}`, cause)
  }
}

/**
 * `JSON.parse` that drops every `__proto__` key at any depth. `JSON.parse` itself only makes them own
 * properties, but any later code that copies with assignment (`Object.assign`, a decoder, a merge)
 * would turn one into a prototype change; dropping them here means no restored value carries one.
 */
export function parseSnapshotJson(text: string): unknown {
  return JSON.parse(text, (key, value) => (key === '__proto__' ? undefined : value))
}

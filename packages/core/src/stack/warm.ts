// `warm()`: fills the cache ahead of traffic, highest priority first, with a bounded number of
// factories running at once.

import { ValidationError } from '../errors.ts'
import { assertKnownOptions, optionNames } from '../internal/known-options.ts'
import { assertOptionsObject } from './call-options.ts'
import type { Factory } from './factory.ts'
import { READ_OPTION_NAMES, type ReadOptions } from './options.ts'

/** One entry of `warm()`: a key, the factory that produces its value, and how urgent it is. */
export interface WarmEntry<T = unknown> {
  key: string
  /** Produces the value on a miss (a fresh entry already cached is kept and the factory not called). */
  fetcher?: Factory<T> | undefined
  /** Alias of `fetcher` (the `getOrSet` name). */
  factory?: Factory<T> | undefined
  /** Higher runs first; entries of equal priority keep their order. @default 0 */
  priority?: number | undefined
  /** Options of the `getOrSet` call made for this entry (`ttl`, `tags`, `forceFresh`...). */
  options?: ReadOptions | undefined
}

/** What `onProgress` receives after every entry, failed or not. */
export interface WarmProgress {
  /** Entries finished so far, this one included. */
  completed: number
  total: number
  key: string
  /** Set when this entry's factory failed. */
  error?: unknown
}

/** Options of `warm()`. */
export interface WarmOptions {
  /** Most factories running at the same time. @default 4 */
  concurrency?: number | undefined
  /** Keep warming after a failure and report every failure in the result; otherwise the first failure rejects at once. @default false */
  continueOnError?: boolean | undefined
  /** Called after every entry. An exception it throws is ignored (it must not stop the warm-up). */
  onProgress?: ((progress: WarmProgress) => void) | undefined
}

/** What `warm()` resolves to. */
export interface WarmResult {
  total: number
  /** Entries whose value is now cached. */
  warmed: number
  /** Entries whose factory failed (only with `continueOnError`; otherwise `warm()` rejects). */
  failed: { key: string; error: unknown }[]
}

/** Default of `WarmOptions.concurrency`. */
export const DEFAULT_WARM_CONCURRENCY = 4

const WARM_OPTION_NAMES = optionNames<WarmOptions>({
  concurrency: true,
  continueOnError: true,
  onProgress: true,
})
const WARM_ENTRY_NAMES = optionNames<WarmEntry>({
  key: true,
  fetcher: true,
  factory: true,
  priority: true,
  options: true,
})

/** Runs one entry (a `getOrSet`); supplied by the view so namespaces warm their own keys. */
export type WarmRunner = (
  key: string,
  factory: Factory<unknown>,
  options: ReadOptions | undefined,
) => Promise<unknown>

/** Checks everything first (a bad entry fails the call before any factory runs), then warms. */
export async function warm(
  entries: readonly WarmEntry[],
  options: WarmOptions | undefined,
  run: WarmRunner,
): Promise<WarmResult> {
  const settings = checkOptions(options)
  if (!Array.isArray(entries)) throw new ValidationError('"entries" must be an array', 'entries')
  const ordered = entries
    .map((entry, index) => ({ ...checkEntry(entry, index), index }))
    // Stable: equal priorities keep the caller's order.
    .sort((a, b) => b.priority - a.priority || a.index - b.index)
  const result: WarmResult = { total: ordered.length, warmed: 0, failed: [] }
  let next = 0
  let completed = 0
  let abort: { error: unknown } | undefined

  const report = (progress: WarmProgress): void => {
    if (settings.onProgress === undefined) return
    try {
      settings.onProgress(progress)
    } catch {
      // A progress display must not break the warm-up it reports on.
    }
  }
  const worker = async (): Promise<void> => {
    while (abort === undefined && next < ordered.length) {
      const entry = ordered[next++]!
      try {
        await run(entry.key, entry.factory, entry.options)
        result.warmed++
        report({ completed: ++completed, total: result.total, key: entry.key })
      } catch (error) {
        result.failed.push({ key: entry.key, error })
        report({ completed: ++completed, total: result.total, key: entry.key, error })
        if (!settings.continueOnError) abort ??= { error }
      }
    }
  }
  const workers = Array.from({ length: Math.min(settings.concurrency, ordered.length) }, worker)
  if (settings.continueOnError) {
    await Promise.all(workers)
    return result
  }
  // Without continueOnError the first failure rejects at once; entries already running finish on
  // their own (a factory cannot be cancelled) and no further one starts.
  await new Promise<void>((resolve, reject) => {
    let left = workers.length
    if (left === 0) resolve()
    for (const w of workers) {
      w.then(() => {
        if (abort !== undefined) reject(abort.error)
        else if (--left === 0) resolve()
      })
    }
  })
  return result
}

function checkOptions(
  options: WarmOptions | undefined,
): Required<Omit<WarmOptions, 'onProgress'>> & WarmOptions {
  if (options === undefined) return { concurrency: DEFAULT_WARM_CONCURRENCY, continueOnError: false }
  assertOptionsObject(options, WARM_OPTION_NAMES, 'an option of warm()')
  const concurrency = options.concurrency ?? DEFAULT_WARM_CONCURRENCY
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ValidationError('"concurrency" must be a positive integer', 'concurrency')
  }
  if (options.continueOnError !== undefined && typeof options.continueOnError !== 'boolean') {
    throw new ValidationError('"continueOnError" must be a boolean', 'continueOnError')
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new ValidationError('"onProgress" must be a function', 'onProgress')
  }
  return { concurrency, continueOnError: options.continueOnError ?? false, onProgress: options.onProgress }
}

function checkEntry(
  entry: WarmEntry,
  index: number,
): { key: string; factory: Factory<unknown>; priority: number; options: ReadOptions | undefined } {
  const path = `entries[${index}]`
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new ValidationError(`"${path}" must be an object { key, fetcher, priority?, options? }`, path)
  }
  assertKnownOptions(entry, WARM_ENTRY_NAMES, 'a field of a warm() entry', path)
  if (typeof entry.key !== 'string' || entry.key.length === 0) {
    throw new ValidationError(`"${path}.key" must be a non-empty string`, `${path}.key`)
  }
  const factory = entry.fetcher ?? entry.factory
  if (typeof factory !== 'function') {
    throw new ValidationError(`"${path}.fetcher" must be a function`, `${path}.fetcher`)
  }
  const priority = entry.priority ?? 0
  if (typeof priority !== 'number' || Number.isNaN(priority)) {
    throw new ValidationError(`"${path}.priority" must be a number`, `${path}.priority`)
  }
  if (entry.options !== undefined) {
    if (typeof entry.options !== 'object' || entry.options === null || Array.isArray(entry.options)) {
      throw new ValidationError(`"${path}.options" must be an object`, `${path}.options`)
    }
    assertKnownOptions(entry.options, READ_OPTION_NAMES, 'an option of a warm() entry', `${path}.options`)
  }
  return { key: entry.key, factory, priority, options: entry.options }
}

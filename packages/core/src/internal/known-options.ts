import { ValidationError } from '../errors.ts'

/**
 * The names an options object accepts. Built from an object literal typed against the options
 * interface, so adding an option to the interface without listing it here fails to compile (instead of
 * the new option being refused at run time).
 */
export type OptionNames = ReadonlySet<string>

/** Lists every key of `T` (optional ones included); `satisfies` keeps the list in step with the type. */
export function optionNames<T extends object>(
  names: { readonly [K in keyof Required<T>]: true },
): OptionNames {
  return new Set(Object.keys(names))
}

/** Joins several name lists (stack options = read options + the stack's own). */
export function joinNames(...lists: readonly OptionNames[]): OptionNames {
  const all = new Set<string>()
  for (const list of lists) for (const name of list) all.add(name)
  return all
}

/**
 * Throws a `ValidationError` for the first key of `options` that is not in `known`, naming it (with
 * `path` in front for nested options) and the nearest valid name: `"tll" is not an option of
 * new CacheStack(); did you mean "ttl"?`. `what` completes "is not …" (`'an option of new CacheStack()'`). Keys whose value is `undefined` are checked too: a misspelt
 * key is wrong whatever it holds.
 */
export function assertKnownOptions(options: object, known: OptionNames, what: string, path = ''): void {
  for (const name in options) {
    if (!known.has(name)) throw unknownOption(name, known, what, path)
  }
}

/** `assertKnownOptions` for a nested option that may also be a boolean or absent. */
export function assertKnownNested(value: unknown, known: OptionNames, what: string, path: string): void {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    assertKnownOptions(value, known, what, path)
  }
}

/** The error `assertKnownOptions` throws; exported for checks that walk keys themselves. */
export function unknownOption(name: string, known: OptionNames, what: string, path = ''): ValidationError {
  const option = path === '' ? name : `${path}.${name}`
  const nearest = nearestName(name, known)
  const hint =
    nearest === undefined
      ? ` (known: ${[...known].sort().join(', ')})`
      : `; did you mean "${path === '' ? nearest : `${path}.${nearest}`}"?`
  return new ValidationError(`"${option}" is not ${what}${hint}`, option)
}

/**
 * The known name closest to `name` (case-insensitive optimal string alignment distance), when it is
 * close enough to be a likely typo: at most a third of the longer name, and never more than 3 edits.
 * A name that merely differs in case, or that is a prefix/extension of a known one, always counts.
 */
export function nearestName(name: string, known: Iterable<string>): string | undefined {
  const lower = name.toLowerCase()
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of known) {
    const other = candidate.toLowerCase()
    if (other === lower) return candidate
    let distance = editDistance(lower, other)
    if (other.startsWith(lower) || lower.startsWith(other)) {
      // A cut-short or extended name is a likely slip even when many letters differ; a closer length wins.
      distance = Math.min(distance, 1 + Math.abs(other.length - lower.length) / 10)
    }
    if (distance < bestDistance) {
      bestDistance = distance
      best = candidate
    }
  }
  if (best === undefined) return undefined
  const limit = Math.min(3, Math.max(1, Math.floor(Math.max(name.length, best.length) / 3)))
  return bestDistance <= limit ? best : undefined
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1
  const cols = b.length + 1
  const d: number[] = new Array(rows * cols)
  for (let i = 0; i < rows; i++) d[i * cols] = i
  for (let j = 0; j < cols; j++) d[j] = j
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let value = Math.min(
        d[(i - 1) * cols + j]! + 1,
        d[i * cols + j - 1]! + 1,
        d[(i - 1) * cols + j - 1]! + cost,
      )
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, d[(i - 2) * cols + j - 2]! + 1)
      }
      d[i * cols + j] = value
    }
  }
  return d[rows * cols - 1]!
}

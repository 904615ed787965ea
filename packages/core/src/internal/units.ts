import { ValidationError } from '../errors.ts'

/** The units a duration string may end with (lowercase only; see `DURATION_UNITS`). */
export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd' | 'w'
/** The units a size string may end with (lowercase only; powers of 1024). */
export type SizeUnit = 'b' | 'kb' | 'mb' | 'gb'

/**
 * A number of milliseconds, or a number followed by a unit with no space: `'250ms'`, `'30s'`, `'10m'`,
 * `'2.5h'`, `'1d'`, `'1w'`. Units are lowercase (`'5M'` is refused: minutes or months?).
 */
export type Duration = number | `${number}${DurationUnit}`
/** A number of bytes, or a number followed by a unit with no space: `'512kb'`, `'100mb'`, `'1gb'`. */
export type Size = number | `${number}${SizeUnit}`

/** Milliseconds per duration unit: the whole grammar, as documented in docs/core.md ("Units"). */
export const DURATION_UNITS: Readonly<Record<DurationUnit, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
}
/** Bytes per size unit. */
export const SIZE_UNITS: Readonly<Record<SizeUnit, number>> = {
  b: 1,
  kb: 1024,
  mb: 1024 ** 2,
  gb: 1024 ** 3,
}
// A plain decimal (no sign, exponent or spaces) directly followed by a lowercase unit.
const UNIT_PATTERN = /^(\d+(?:\.\d+)?|\.\d+)([a-z]+)$/

function parseUnit(
  value: unknown,
  option: string,
  units: Readonly<Record<string, number>>,
  kind: 'duration' | 'size',
): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) {
      throw new ValidationError(`"${option}" must be a finite, non-negative ${kind}; got ${value}`, option)
    }
    return value
  }
  const example = kind === 'size' ? "'512kb' or a number of bytes" : "'30s' or a number of milliseconds"
  if (typeof value !== 'string') {
    const type = typeof value
    const got =
      value === undefined
        ? 'undefined'
        : value === null
          ? 'null'
          : `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`
    throw new ValidationError(`"${option}" must be a ${kind} (${example}); got ${got}`, option)
  }
  const match = UNIT_PATTERN.exec(value)
  const factor = match ? units[match[2]!] : undefined
  if (match && factor !== undefined && Object.hasOwn(units, match[2]!)) return Number(match[1]) * factor
  const list = Object.keys(units).join(', ')
  const hint =
    value.trim() !== value || /\d\s+[a-z]/i.test(value)
      ? 'no spaces'
      : /^[-+]/.test(value)
        ? 'no sign'
        : /[A-Z]/.test(value)
          ? 'units are lowercase'
          : match === null && /^\d+(\.\d+)?$/.test(value)
            ? 'a string needs a unit'
            : `units: ${list}`
  throw new ValidationError(
    `"${option}" is not a valid ${kind}: ${JSON.stringify(value)} (${hint}; use ${example})`,
    option,
  )
}

/** Parses a duration to milliseconds; throws a `ValidationError` naming `option` when it is not one. */
export function parseDuration(value: unknown, option: string): number {
  return parseUnit(value, option, DURATION_UNITS, 'duration')
}

/** Like `parseDuration` but `undefined` stays `undefined`. */
export function optionalDuration(value: unknown, option: string): number | undefined {
  return value === undefined ? undefined : parseDuration(value, option)
}

/** Parses a size to bytes; throws a `ValidationError` naming `option` when it is not one. */
export function parseSize(value: unknown, option: string): number {
  return Math.floor(parseUnit(value, option, SIZE_UNITS, 'size'))
}

export function optionalSize(value: unknown, option: string): number | undefined {
  return value === undefined ? undefined : parseSize(value, option)
}

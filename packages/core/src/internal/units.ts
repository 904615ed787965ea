import { ValidationError } from '../errors.ts'

/** A number of milliseconds, or a string such as `'250ms'`, `'30s'`, `'10m'`, `'2.5h'`, `'1d'`. */
export type Duration = number | string
/** A number of bytes, or a string such as `'512kb'`, `'100mb'`. */
export type Size = number | string

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
}
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1024,
  mb: 1024 ** 2,
  gb: 1024 ** 3,
}
const UNIT_PATTERN = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)\s*$/i

function parseUnit(value: unknown, option: string, units: Record<string, number>, kind: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) {
      throw new ValidationError(`"${option}" must be a finite, non-negative ${kind}; got ${value}`, option)
    }
    return value
  }
  if (typeof value === 'string') {
    const match = UNIT_PATTERN.exec(value)
    const factor = match ? units[(match[2] || (kind === 'size' ? 'b' : 'ms')).toLowerCase()] : undefined
    if (match && factor !== undefined) return Number(match[1]) * factor
  }
  const example = kind === 'size' ? "'512kb' or a number of bytes" : "'30s' or a number of milliseconds"
  throw new ValidationError(
    `"${option}" is not a valid ${kind}: ${JSON.stringify(value)} (use ${example})`,
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

import { describe, expect, it } from 'vitest'
import { ValidationError } from '../errors.ts'
import { parseDuration, parseSize } from './units.ts'

function message(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError)
    return (error as Error).message
  }
  throw new Error('expected a ValidationError')
}

describe('one grammar for durations and sizes (docs/core.md, "Units")', () => {
  it('accepts a number, or a plain decimal followed by a lowercase unit', () => {
    expect(parseDuration(250, 'ttl')).toBe(250)
    expect(parseDuration('250ms', 'ttl')).toBe(250)
    expect(parseDuration('30s', 'ttl')).toBe(30_000)
    expect(parseDuration('10m', 'ttl')).toBe(600_000)
    expect(parseDuration('2.5h', 'ttl')).toBe(9_000_000)
    expect(parseDuration('.5s', 'ttl')).toBe(500)
    expect(parseDuration('1d', 'ttl')).toBe(86_400_000)
    expect(parseDuration('1w', 'ttl')).toBe(604_800_000)
    expect(parseSize('512kb', 'maxBytes')).toBe(524_288)
    expect(parseSize('1gb', 'maxBytes')).toBe(1024 ** 3)
    expect(parseSize(10, 'maxBytes')).toBe(10)
  })

  it('refuses everything else, saying why', () => {
    expect(message(() => parseDuration('5M', 'ttl'))).toBe(
      `"ttl" is not a valid duration: "5M" (units are lowercase; use '30s' or a number of milliseconds)`,
    )
    expect(message(() => parseDuration('10 s', 'ttl'))).toBe(
      `"ttl" is not a valid duration: "10 s" (no spaces; use '30s' or a number of milliseconds)`,
    )
    expect(message(() => parseDuration(' 10s', 'ttl'))).toBe(
      `"ttl" is not a valid duration: " 10s" (no spaces; use '30s' or a number of milliseconds)`,
    )
    expect(message(() => parseDuration('100', 'ttl'))).toBe(
      `"ttl" is not a valid duration: "100" (a string needs a unit; use '30s' or a number of milliseconds)`,
    )
    expect(message(() => parseDuration('10min', 'ttl'))).toBe(
      `"ttl" is not a valid duration: "10min" (units: ms, s, m, h, d, w; use '30s' or a number of milliseconds)`,
    )
    expect(message(() => parseDuration('ten seconds', 'ttl'))).toBe(
      `"ttl" is not a valid duration: "ten seconds" (units: ms, s, m, h, d, w; use '30s' or a number of milliseconds)`,
    )
    expect(message(() => parseDuration('soon', 'ttl'))).toBe(
      `"ttl" is not a valid duration: "soon" (units: ms, s, m, h, d, w; use '30s' or a number of milliseconds)`,
    )
    expect(message(() => parseDuration('-5s', 'ttl'))).toBe(
      `"ttl" is not a valid duration: "-5s" (no sign; use '30s' or a number of milliseconds)`,
    )
    expect(message(() => parseDuration('1e3ms', 'ttl'))).toMatch(/^"ttl" is not a valid duration: "1e3ms"/)
    expect(message(() => parseDuration(-1, 'ttl'))).toBe(
      '"ttl" must be a finite, non-negative duration; got -1',
    )
    expect(message(() => parseSize('100MB', 'maxBytes'))).toBe(
      `"maxBytes" is not a valid size: "100MB" (units are lowercase; use '512kb' or a number of bytes)`,
    )
    // Inherited names are not units.
    expect(message(() => parseDuration('1constructor', 'ttl'))).toMatch(/units: ms, s, m, h, d, w/)
  })

  it('never reads "undefined is not a valid duration"', () => {
    expect(message(() => parseDuration(undefined, 'ttl'))).toBe(
      `"ttl" must be a duration ('30s' or a number of milliseconds); got undefined`,
    )
    expect(message(() => parseDuration(null, 'grace'))).toBe(
      `"grace" must be a duration ('30s' or a number of milliseconds); got null`,
    )
    expect(message(() => parseSize({}, 'maxBytes'))).toBe(
      `"maxBytes" must be a size ('512kb' or a number of bytes); got an object`,
    )
  })
})

import { describe, expect, it } from 'vitest'
import { ValidationError } from '../errors.ts'
import { canonicalArgs, MAX_OPERATION_KEY_LENGTH, operationKey } from './operation-key.ts'

describe('operationKey', () => {
  it('is the name plus canonical arguments, in the format wrap has always stored under', () => {
    expect(operationKey('find', [{ b: 2, a: 1 }])).toBe('find:[{"a":n:1,"b":n:2}]')
    expect(operationKey('find', [{ a: 1, b: 2 }])).toBe(operationKey('find', [{ b: 2, a: 1 }]))
  })

  it('never confuses values of different types', () => {
    const variants = [
      [1],
      ['1'],
      [true],
      ['true'],
      [null],
      [undefined],
      [1n],
      [[1]],
      [{ 0: 1 }],
      [new Set([1])],
    ]
    const keys = new Set(variants.map((args) => operationKey('op', args)))
    expect(keys.size).toBe(variants.length)
    expect(operationKey('op', [0])).not.toBe(operationKey('op', [-0]))
  })

  it('hashes long argument lists into a bounded key, still distinct per argument', () => {
    const a = operationKey('op', [{ long: 'x'.repeat(1000) }])
    const b = operationKey('op', [{ long: `${'x'.repeat(999)}y` }])
    expect(a).toMatch(/^op:#[\w-]{32}$/)
    expect(a).not.toBe(b)
    expect(operationKey('op', ['x'.repeat(MAX_OPERATION_KEY_LENGTH - 10)]).includes('#')).toBe(false)
  })

  it('appends a hash of the session, never the session itself', () => {
    const alice = operationKey('me', [], 'session-of-alice')
    expect(alice).not.toContain('alice')
    expect(alice).toMatch(/^me:\[\] session=[\w-]{22}$/)
    expect(alice).not.toBe(operationKey('me', [], 'session-of-bob'))
    expect(alice).not.toBe(operationKey('me', []))
  })

  it('refuses arguments that have no stable text', () => {
    const circular: Record<string, unknown> = {}
    circular.self = circular
    expect(() => canonicalArgs([circular])).toThrow(ValidationError)
    expect(() => canonicalArgs([() => 1])).toThrow(ValidationError)
    expect(() => canonicalArgs([Symbol('s')])).toThrow(ValidationError)
  })
})

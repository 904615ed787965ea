import {
  CircuitOpenError,
  DisconnectedError,
  FactoryError,
  FactoryTimeoutError,
  LayerError,
} from '@cachestack/core'
import { TRPCError } from '@trpc/server'
import { expect, it } from 'vitest'
import { toTRPCError } from './trpc-error.ts'

it('maps core errors to fitting TRPCError codes and passes the procedure’s own errors through', () => {
  const own = new TRPCError({ code: 'FORBIDDEN' })
  expect(toTRPCError(own)).toBe(own)
  expect(toTRPCError(new FactoryError('k', own))).toBe(own)
  const cases: [unknown, string][] = [
    [new FactoryTimeoutError('k', 50), 'GATEWAY_TIMEOUT'],
    [new CircuitOpenError('k', 0), 'SERVICE_UNAVAILABLE'],
    [new DisconnectedError(), 'SERVICE_UNAVAILABLE'],
    [new LayerError('redis', 'get', new Error('down')), 'INTERNAL_SERVER_ERROR'],
    [new FactoryError('k', new Error('db down')), 'INTERNAL_SERVER_ERROR'],
  ]
  for (const [error, code] of cases) {
    const mapped = toTRPCError(error)
    expect([mapped.code, mapped.cause]).toEqual([code, error])
  }
})

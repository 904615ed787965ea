import {
  CacheError,
  CircuitOpenError,
  DisconnectedError,
  FactoryError,
  FactoryTimeoutError,
  ValidationError,
} from '@cachestack/core'
import { type TRPC_ERROR_CODE_KEY, TRPCError } from '@trpc/server'

/**
 * The `TRPCError` a failure becomes: a `TRPCError` (the procedure's own, also when a concurrent caller's
 * run threw it) passes through; core's errors get the code that tells the client what happened.
 */
export function toTRPCError(error: unknown): TRPCError {
  if (isTRPCError(error)) return error
  // A caller that joined another caller's run gets the stack's wrapper; the procedure's error is inside.
  if (error instanceof FactoryError && isTRPCError(error.cause)) return error.cause
  return new TRPCError({ code: codeOf(error), message: messageOf(error), cause: error })
}

/** A configuration mistake found when a procedure is called (a cache middleware on a mutation). */
export function configurationError(message: string, option: string): TRPCError {
  const cause = new ValidationError(message, option)
  return new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message, cause })
}

function isTRPCError(error: unknown): error is TRPCError {
  // By name too: a second copy of @trpc/server (ESM and CJS) makes `instanceof` fail, as tRPC itself allows.
  return error instanceof TRPCError || (error instanceof Error && error.name === 'TRPCError')
}

function codeOf(error: unknown): TRPC_ERROR_CODE_KEY {
  // The data source did not answer in time: a gateway timeout, not the client's request timing out.
  if (error instanceof FactoryTimeoutError) return 'GATEWAY_TIMEOUT'
  if (error instanceof CircuitOpenError || error instanceof DisconnectedError) return 'SERVICE_UNAVAILABLE'
  return 'INTERNAL_SERVER_ERROR'
}

function messageOf(error: unknown): string {
  if (error instanceof CacheError || error instanceof ValidationError) return error.message
  return error instanceof Error ? error.message : String(error)
}

/** The error class name: a bounded value for `error.type`. */
export function errorType(error: unknown): string {
  if (error instanceof Error) return error.name
  return typeof error
}

/** An exception as `span.recordException` takes it (no `code`: the SDK would prefer it to the class name). */
export interface RecordedException {
  name: string
  message: string
  stack?: string | undefined
}

/**
 * The exception to record on a span, named by its class. Cachestack's own errors name the key in their
 * message (`Factory for key "user:ada@example.com" failed`), so unless keys may be recorded, a cachestack
 * error is described by its stable `code` and its cause's message instead, and its stack loses the
 * message line.
 */
export function exceptionOf(error: unknown, includeKeys: boolean): RecordedException {
  if (!(error instanceof Error)) return { name: typeof error, message: String(error) }
  const code = (error as { code?: unknown }).code
  if (includeKeys || typeof code !== 'string' || !code.startsWith('E_'))
    return { name: error.name, message: error.message, stack: error.stack }
  const cause = (error as { cause?: unknown }).cause
  const because = cause instanceof Error ? `: ${cause.name}: ${cause.message}` : ''
  const message = `${code}${because}`
  const frames = error.stack?.split('\n').slice(1).join('\n')
  return { name: error.name, message, stack: frames ? `${error.name}: ${message}\n${frames}` : undefined }
}

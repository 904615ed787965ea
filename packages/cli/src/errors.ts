/** A failure the CLI reports as one line on stderr, with exit code 1; `code` is stable across releases. */
export class CliError extends Error {
  readonly code: string
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CliError'
    this.code = code
  }
}

/** The one line printed for any failure: the message, newlines folded, without a stack trace. */
export function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error)
  return text.replace(/\s*\n\s*/g, ' ').trim()
}

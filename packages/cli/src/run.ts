import { CommanderError } from 'commander'
import { oneLine } from './errors.ts'
import { print } from './output.ts'
import { createProgram, type Outcome } from './program.ts'

/**
 * Runs the CLI on `argv` (the arguments after the script) and resolves with the exit code: 0 on
 * success, 1 on any failure, reported as one line on stderr (no stack trace).
 */
export async function run(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  const outcome: Outcome = {}
  try {
    await createProgram(outcome).parseAsync([...argv], { from: 'user' })
  } catch (error) {
    if (error instanceof CommanderError && error.exitCode === 0) return 0
    process.stderr.write(`cachestack: ${describe(error)}\n`)
    return 1
  }
  if (outcome.report) print(outcome.report, outcome.settings?.json === true)
  return 0
}

function describe(error: unknown): string {
  if (!(error instanceof CommanderError)) return oneLine(error)
  if (error.code === 'commander.help') return 'missing command (run cachestack --help to list them)'
  const line = oneLine(error)
    .replace(/^error: /, '')
    .replace('(Did you mean', '(did you mean')
  if (error.code === 'commander.unknownOption' && line.startsWith("unknown option '--prefix'")) {
    return "--prefix is not an option of this command: the stack's key prefix goes before the command (cachestack --prefix <prefix> <command>)"
  }
  return line
}

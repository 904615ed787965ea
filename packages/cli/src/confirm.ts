import { createInterface } from 'node:readline/promises'
import { CliError } from './errors.ts'

/**
 * Asks before a command that removes or invalidates data: `--yes` answers for the user; without it a
 * terminal gets a y/N question on stderr, and anything else (a pipe, CI, cron) is refused, because a
 * script that forgot `--yes` must not hang nor guess.
 */
export async function confirm(action: string, yes: boolean): Promise<void> {
  if (yes) return
  if (process.stdin.isTTY !== true) {
    throw new CliError(
      'E_NOT_CONFIRMED',
      `refusing to ${action} without confirmation: stdin is not a terminal (pass --yes)`,
    )
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr })
  try {
    const answer = await prompt.question(`${action[0]!.toUpperCase()}${action.slice(1)}? [y/N] `)
    if (!/^y(es)?$/i.test(answer.trim())) throw new CliError('E_ABORTED', 'aborted: nothing was changed')
  } finally {
    prompt.close()
  }
}

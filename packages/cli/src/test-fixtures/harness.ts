// The parent side of the CLI's end-to-end tests: start apps (app.ts) and run the CLI, each a real process.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { type Child, startChild } from '../../../../tools/child-process.ts'
import type { AppCommand, AppConfig } from './app.ts'

const APP = fileURLToPath(new URL('./app.ts', import.meta.url))
const BIN = fileURLToPath(new URL('../bin.ts', import.meta.url))
const SOURCE = ['--conditions=@cachestack/source', '--no-warnings']

/** A running app in a child process. */
export type App = Child<AppCommand>

/** Forks an app and waits until its stack is ready (bus subscribed). */
export function startApp(config: AppConfig): Promise<App> {
  return startChild<AppCommand>(APP, config)
}

/** What one CLI run printed and how it exited. */
export interface CliRun {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * Runs the CLI from source (`node src/bin.ts`, or `bin` to run another file such as the built one), with
 * stdin a pipe that is closed at once (not a terminal) unless `input` is given.
 */
export function cli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; bin?: string } = {},
): Promise<CliRun> {
  const command = options.bin ?? process.execPath
  const argv = options.bin === undefined ? [...SOURCE, BIN, ...args] : args
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, {
      env: { ...process.env, REDIS_URL: '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(options.input ?? '')
  })
}

/**
 * Runs the CLI from source with stdin, stdout and stderr on a pseudo-terminal (util-linux `script`), the
 * way an operator types at it; `input` is what they type. stdout carries everything the terminal showed.
 */
export function cliOnTerminal(args: string[], input: string, env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const quote = (arg: string) => `'${arg.replaceAll("'", "'\\''")}'`
  const command = [process.execPath, ...SOURCE, BIN, ...args].map(quote).join(' ')
  return cli(['-qec', command, '/dev/null'], { bin: 'script', input, env })
}

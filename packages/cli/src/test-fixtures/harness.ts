// The parent side of the CLI's end-to-end tests: start apps (app.ts) and run the CLI, each a real process.
import { type ChildProcess, fork, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { AppCommand, AppConfig } from './app.ts'

const APP = fileURLToPath(new URL('./app.ts', import.meta.url))
const BIN = fileURLToPath(new URL('../bin.ts', import.meta.url))
const SOURCE = ['--conditions=@cachestack/source', '--no-warnings']

type Body<C> = C extends AppCommand ? Omit<C, 'id'> : never

/** A running app in a child process. */
export interface App {
  call<T = unknown>(command: Body<AppCommand>): Promise<T>
  stop(): Promise<void>
}

/** Forks an app and waits until its stack is ready (bus subscribed). */
export async function startApp(config: AppConfig): Promise<App> {
  const child: ChildProcess = fork(APP, [JSON.stringify(config)], {
    execArgv: SOURCE,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  let next = 0
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>()
  let ready: () => void = () => {}
  const started = new Promise<void>((resolve, reject) => {
    ready = resolve
    child.once('exit', (code) => reject(new Error(`app exited with ${code}`)))
  })
  child.on('message', (message: { id?: number; result?: unknown; error?: string; event?: string }) => {
    if (message.event === 'ready') return ready()
    const call = pending.get(message.id!)
    pending.delete(message.id!)
    if (message.error !== undefined) call?.reject(new Error(message.error))
    else call?.resolve(message.result)
  })
  await started
  return {
    call: <T>(command: Body<AppCommand>) =>
      new Promise<T>((resolve, reject) => {
        const id = next++
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
        child.send({ ...command, id })
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.disconnect()
      await exited
    },
  }
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

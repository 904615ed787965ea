// One IPC protocol for the test and bench processes that each run a cache instance in a child process
// (core's multi-process tests, the CLI's end-to-end tests, the distributed bench): the parent sends
// `{ ...command, id }`, the child answers `{ id, result }` or `{ id, error }`, and tells events as
// `{ event }` — `ready` once it takes commands. Test tooling only; no package publishes it.
import { type ChildProcess, fork } from 'node:child_process'

/** Runs a child from TypeScript source, as the tests do. */
const SOURCE = ['--conditions=@cachestack/source', '--no-warnings']

/** A command as the parent sends it: the child's command type without the `id` the protocol adds. */
export type CommandBody<C> = C extends { id: number } ? Omit<C, 'id'> : never

/** A running child process, driven by commands of type `C`. */
export interface Child<C extends { id: number }> {
  readonly process: ChildProcess
  /** Sends a command and resolves with the child's answer (rejects with its error, or if it exits). */
  call<T = unknown>(command: CommandBody<C>): Promise<T>
  /** Resolves when the child tells `event` (e.g. `factory-started`). */
  once(event: string): Promise<void>
  /** Disconnects (the child closes its cache and exits) and waits until it has exited. */
  stop(): Promise<void>
}

/** Forks `script` with `config` (as JSON) as its argument and waits until it tells `ready`. */
export async function startChild<C extends { id: number }>(
  script: string,
  config: unknown,
): Promise<Child<C>> {
  const child = fork(script, [JSON.stringify(config)], {
    execArgv: SOURCE,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  let next = 0
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>()
  const listeners = new Map<string, (() => void)[]>()
  child.on('message', (message: { id?: number; result?: unknown; error?: string; event?: string }) => {
    if (message.event) {
      for (const listener of listeners.get(message.event) ?? []) listener()
      listeners.delete(message.event)
      return
    }
    const call = pending.get(message.id!)
    pending.delete(message.id!)
    if (message.error !== undefined) call?.reject(new Error(message.error))
    else call?.resolve(message.result)
  })
  child.on('exit', () => {
    for (const call of pending.values()) call.reject(new Error('child process exited'))
    pending.clear()
  })
  const once = (event: string) =>
    new Promise<void>((resolve) => listeners.set(event, [...(listeners.get(event) ?? []), resolve]))
  await Promise.race([
    once('ready'),
    new Promise((_, reject) =>
      child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`))),
    ),
  ])
  return {
    process: child,
    once,
    call: <T>(command: CommandBody<C>) =>
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

/**
 * The child side: answers every command with what `handle` resolves to (or its error), and when the
 * parent disconnects runs `close` and exits. Call `tell('ready')` once the child takes commands.
 */
export function serveParent<C extends { id: number }>(
  handle: (command: C) => Promise<unknown>,
  close: () => Promise<unknown>,
): void {
  process.on('message', (command: C) => {
    handle(command).then(
      (result) => process.send!({ id: command.id, result }),
      (error: unknown) => process.send!({ id: command.id, error: String(error) }),
    )
  })
  process.on('disconnect', () => {
    close().finally(() => process.exit(0))
  })
}

/** Tells the parent `event` (`ready`, or a moment a test waits for). */
export function tell(event: string): void {
  process.send!({ event })
}

import { Command, InvalidArgumentError, Option } from 'commander'
import pkg from '../package.json' with { type: 'json' }
import type { Report } from './output.ts'
import * as reads from './read-commands.ts'
import { Session } from './session.ts'
import { resolveSettings, type Settings } from './settings.ts'
import * as writes from './write-commands.ts'

/** What the action of the command that ran produced; printed once the command is done. */
export interface Outcome {
  report?: Report
  settings?: Settings
}

type Options = Record<string, string | string[] | boolean | undefined>

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value]

/** Options every command takes before or after its name (`--prefix` only before: see `resolveSettings`). */
function connectionOptions(command: Command): Command {
  return command
    .option(
      '--redis <url>',
      'Redis URL, a Cluster node works too (default: $REDIS_URL or redis://127.0.0.1:6379)',
    )
    .option('--channel <name>', "the apps' bus channel (default: $CACHESTACK_BUS_CHANNEL or cachestack:bus)")
    .option('--generation <n>', "the apps' starting key generation, when they never bumped it")
    .option('--timeout <duration>', 'bound on connecting and on each Redis command (default: 2s)')
    .option('--json', 'print one JSON document on stdout, for scripts')
}

function destructive(command: Command): Command {
  return connectionOptions(command).option('-y, --yes', 'do not ask for confirmation')
}

function namespaced(command: Command): Command {
  return command.option('-n, --namespace <ns>', 'work inside a namespace (a:b for nested ones)')
}

/**
 * The `cachestack` program. Positional options: what comes before the command is the program's, so
 * `cachestack --prefix app: keys --prefix users:` means "the stack under app:, its keys starting with users:".
 */
export function createProgram(outcome: Outcome): Command {
  const program = new Command('cachestack')
    .description(
      "Inspect and invalidate a cachestack cache in Redis. Changes are published on the apps' bus, " +
        'so every running app drops its L1 copies at once.',
    )
    .version(pkg.version, '-V, --version')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeErr: () => {}, outputError: () => {} })
  connectionOptions(program)
    .option(
      '--prefix <prefix>',
      "the stack's key prefix in Redis (default: $CACHESTACK_PREFIX or cachestack:)",
    )
    .option('-y, --yes', 'do not ask for confirmation')

  const read = (run: (session: Session, command: Command) => Promise<Report>) =>
    async function (this: Command) {
      const settings = resolveSettings(this)
      const session = await Session.open(settings, false)
      try {
        outcome.report = await run(session, this)
      } finally {
        await session.close()
      }
      outcome.settings = settings
    }
  const change = (build: (settings: Settings, args: string[], options: Options) => writes.Change) =>
    async function (this: Command, ...args: unknown[]) {
      const settings = resolveSettings(this)
      const built = build(
        settings,
        args.filter((arg) => typeof arg === 'string'),
        this.opts<Options>(),
      )
      outcome.report = await writes.applyChange(built, settings.yes, () => Session.open(settings, true))
      outcome.settings = settings
    }
  const ns = (options: Options) => options.namespace as string | undefined

  connectionOptions(program.command('stats'))
    .description('what the stack holds in Redis, per namespace, and how many apps listen on the bus')
    .action(read((session) => reads.stats(session)))
  namespaced(connectionOptions(program.command('keys')))
    .description('list keys (as the apps name them)')
    .option('--prefix <prefix>', 'only keys starting with this')
    .addOption(new Option('--limit <n>', 'stop after n keys').argParser(positiveInteger))
    .action(
      read((session, command) => {
        const options = command.opts<Options & { limit?: number }>()
        return reads.keys(session, {
          prefix: options.prefix as string | undefined,
          namespace: ns(options),
          limit: options.limit,
        })
      }),
    )
  namespaced(connectionOptions(program.command('inspect')))
    .description('where an entry is, how fresh, its tags')
    .argument('<key>')
    .action(read((session, command) => reads.inspect(session, command.args[0]!, ns(command.opts()))))
  namespaced(connectionOptions(program.command('get')))
    .description('print the value of a key as JSON')
    .argument('<key>')
    .action(read((session, command) => reads.get(session, command.args[0]!, ns(command.opts()))))
  namespaced(destructive(program.command('delete')))
    .description('delete a key from Redis and from every app')
    .argument('<key>')
    .action(change((_, [key], options) => writes.deleteKey(key!, ns(options))))
  namespaced(destructive(program.command('clear')))
    .description('delete every key of the stack, or of one namespace')
    .action(change((settings, _, options) => writes.clear(settings.prefix, ns(options))))
  namespaced(destructive(program.command('invalidate')))
    .description('invalidate by tag (repeatable), key prefix or glob pattern')
    .option('--tag <tag>', 'entries carrying this tag', collect)
    .option('--prefix <prefix>', 'keys starting with this')
    .option('--pattern <glob>', 'keys matching this glob (*, ?, [abc])')
    .action(change((_, __, options) => writes.invalidate(options as writes.InvalidateTarget, ns(options))))
  namespaced(destructive(program.command('expire')))
    .description('soft-invalidate a tag: its entries turn stale (served within their grace window)')
    .option('--tag <tag>', 'entries carrying this tag', collect)
    .action(change((_, __, options) => writes.expire(options.tag as string[] | undefined, ns(options))))
  destructive(program.command('bump-generation'))
    .description('make every key written so far unreachable at once (stacks with generations)')
    .action(change((settings) => writes.bumpGeneration(settings.prefix)))
  namespaced(destructive(program.command('prune')))
    .description('remove keys no read can reach: expired, tag-invalidated, of earlier generations')
    .action(change((_, __, options) => writes.prune(ns(options))))
  return program
}

function positiveInteger(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('it must be a positive whole number')
  return Number(value)
}

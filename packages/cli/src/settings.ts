import { DEFAULT_BUS_CHANNEL, parseDuration } from '@cachestack/core'
import type { Command } from 'commander'
import { CliError, oneLine } from './errors.ts'

/** Where the stack lives and how the CLI talks, resolved once from the options and the environment. */
export interface Settings {
  /** `--redis`, else `REDIS_URL`. @default 'redis://127.0.0.1:6379' */
  readonly redis: string
  /** The stack's key prefix (its RedisLayer `prefix`): `--prefix` before the command. @default 'cachestack:' */
  readonly prefix: string
  /** The bus channel the apps' RedisBus uses. @default 'cachestack:bus' */
  readonly channel: string
  /** `CACHESTACK_BUS_SECRET`: the apps' `signingSecret` (an environment variable, so it stays out of `ps`). */
  readonly secret: string | undefined
  /** The apps' starting generation, for stacks that turned generations on but never bumped. */
  readonly generation: number | undefined
  /** Bound on connecting and on each Redis command, in ms. @default 2000 */
  readonly timeout: number
  readonly json: boolean
  readonly yes: boolean
}

const DEFAULT_REDIS = 'redis://127.0.0.1:6379'
const DEFAULT_PREFIX = 'cachestack:'
const DEFAULT_TIMEOUT = 2_000

type Raw = Record<string, string | boolean | string[] | undefined>

/**
 * Merges the options given before the command (the program's) with those after it (the command's, which
 * win); `--prefix` is only ever the program's: after `keys` and `invalidate` it is their own filter.
 */
export function resolveSettings(command: Command): Settings {
  const global = command.parent?.opts<Raw>() ?? {}
  const local = command.opts<Raw>()
  const pick = (name: string) => (local[name] ?? global[name]) as string | undefined
  const env = process.env
  return {
    redis: pick('redis') ?? (env.REDIS_URL || DEFAULT_REDIS),
    prefix: (global.prefix as string | undefined) ?? env.CACHESTACK_PREFIX ?? DEFAULT_PREFIX,
    channel: pick('channel') ?? (env.CACHESTACK_BUS_CHANNEL || DEFAULT_BUS_CHANNEL),
    secret: env.CACHESTACK_BUS_SECRET || undefined,
    generation: generationOption(pick('generation')),
    timeout: timeoutOption(pick('timeout')),
    json: local.json === true || global.json === true,
    yes: local.yes === true || global.yes === true,
  }
}

function generationOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value))
    throw new CliError('E_USAGE', `--generation must be a whole number; got "${value}"`)
  return Number(value)
}

function timeoutOption(value: string | undefined): number {
  if (value === undefined) return DEFAULT_TIMEOUT
  let ms: number
  try {
    ms = /^\d+$/.test(value) ? Number(value) : parseDuration(value, 'timeout')
  } catch (error) {
    throw new CliError('E_USAGE', `--timeout: ${oneLine(error)}`)
  }
  if (!(ms > 0)) throw new CliError('E_USAGE', `--timeout must be more than 0; got "${value}"`)
  return ms
}

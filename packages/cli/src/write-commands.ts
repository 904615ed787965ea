// The commands that change the cache: each calls core's own method on the CLI's stack, which writes
// Redis and publishes on the apps' bus, then waits until the bus has sent it.

import { confirm } from './confirm.ts'
import { CliError } from './errors.ts'
import { count, type Report } from './output.ts'
import { Progress } from './progress.ts'
import { viewOf } from './read-commands.ts'
import type { Session } from './session.ts'

/** One change: what it does in words (for the prompt), and how to do it on the session's stack. */
export interface Change {
  readonly action: string
  /** Scans keys (shows progress while it runs). */
  readonly scans?: boolean
  run(session: Session): Promise<{ json: Record<string, unknown>; text: string }>
}

/** Asks (unless `--yes`), runs the change, waits for the bus, and reports who heard it. */
export async function applyChange(
  change: Change,
  yes: boolean,
  open: () => Promise<Session>,
): Promise<Report> {
  await confirm(change.action, yes)
  const session = await open()
  try {
    const progress = change.scans ? new Progress(change.action) : undefined
    let result: Awaited<ReturnType<Change['run']>>
    try {
      result = await change.run(session)
    } finally {
      progress?.done()
    }
    await session.settle()
    const listeners = session.published > 0 ? await session.listeners() : undefined
    const heard =
      listeners === undefined
        ? ''
        : ` — published on ${session.settings.channel}, ${listeners} app${listeners === 1 ? '' : 's'} listening`
    return {
      json: { ...result.json, published: session.published, listeners: listeners ?? null },
      text: [`${result.text}${heard}`],
    }
  } finally {
    await session.close()
  }
}

function where(namespace: string | undefined): string {
  return namespace === undefined ? '' : ` in namespace "${namespace}"`
}

/** `delete KEY`. */
export function deleteKey(key: string, namespace?: string): Change {
  return {
    action: `delete key "${key}"${where(namespace)}`,
    async run(session) {
      const deleted = await viewOf(session.stack, namespace).delete(key)
      return {
        json: { key, namespace: namespace ?? null, deleted },
        text: deleted ? `deleted ${key}` : `${key} was not in Redis (every app told to drop it anyway)`,
      }
    },
  }
}

/** `clear [--namespace NS]`. */
export function clear(prefix: string, namespace?: string): Change {
  if (prefix === '' && namespace === undefined) {
    throw new CliError(
      'E_USAGE',
      'clear with an empty --prefix would empty the whole Redis database; name a --namespace (or use FLUSHDB)',
    )
  }
  return {
    action:
      namespace === undefined
        ? `clear every key under "${prefix}"`
        : `clear namespace "${namespace}" (keys under "${prefix}${namespace}:")`,
    scans: true,
    async run(session) {
      await viewOf(session.stack, namespace).clear()
      return {
        json: { cleared: true, namespace: namespace ?? null },
        text: namespace === undefined ? 'cleared the whole cache' : `cleared namespace ${namespace}`,
      }
    },
  }
}

/** What `invalidate` takes: exactly one of tags, a key prefix or a glob. */
export interface InvalidateTarget {
  tag?: string[] | undefined
  prefix?: string | undefined
  pattern?: string | undefined
}

/** `invalidate --tag T... | --prefix P | --pattern G`. */
export function invalidate(target: InvalidateTarget, namespace?: string): Change {
  const given = [
    target.tag && '--tag',
    target.prefix !== undefined && '--prefix',
    target.pattern !== undefined && '--pattern',
  ].filter(Boolean)
  if (given.length !== 1) {
    throw new CliError(
      'E_USAGE',
      given.length === 0
        ? 'invalidate needs one of --tag, --prefix or --pattern'
        : `invalidate takes one of --tag, --prefix or --pattern, not ${given.join(' and ')}`,
    )
  }
  if (target.tag) {
    const tags = target.tag
    return {
      action: `invalidate tag${tags.length > 1 ? 's' : ''} ${tags.map((t) => `"${t}"`).join(', ')}${where(namespace)}`,
      async run(session) {
        await viewOf(session.stack, namespace).invalidateByTags(tags)
        return {
          json: { tags, namespace: namespace ?? null },
          text: `invalidated tag${tags.length > 1 ? 's' : ''} ${tags.join(', ')}`,
        }
      },
    }
  }
  if (target.prefix !== undefined) {
    const prefix = target.prefix
    return {
      action: `invalidate every key starting with "${prefix}"${where(namespace)}`,
      scans: true,
      async run(session) {
        await viewOf(session.stack, namespace).invalidateByPrefix(prefix)
        return {
          json: { prefix, namespace: namespace ?? null },
          text: `invalidated keys starting with ${prefix}`,
        }
      },
    }
  }
  const pattern = target.pattern!
  return {
    action: `invalidate every key matching "${pattern}"${where(namespace)}`,
    scans: true,
    async run(session) {
      await viewOf(session.stack, namespace).invalidateByPattern(pattern)
      return { json: { pattern, namespace: namespace ?? null }, text: `invalidated keys matching ${pattern}` }
    },
  }
}

/** `expire --tag T...`: soft invalidation, entries turn stale (served within grace). */
export function expire(tags: string[] | undefined, namespace?: string): Change {
  if (!tags || tags.length === 0) throw new CliError('E_USAGE', 'expire needs --tag')
  return {
    action: `expire tag${tags.length > 1 ? 's' : ''} ${tags.map((t) => `"${t}"`).join(', ')}${where(namespace)}`,
    async run(session) {
      await viewOf(session.stack, namespace).expireByTags(tags)
      return {
        json: { tags, namespace: namespace ?? null },
        text: `expired tag${tags.length > 1 ? 's' : ''} ${tags.join(', ')}`,
      }
    },
  }
}

/** `bump-generation`. */
export function bumpGeneration(prefix: string): Change {
  return {
    action: `bump the key generation under "${prefix}" (every key written so far becomes unreachable)`,
    async run(session) {
      if (session.stack.getGeneration() === undefined) {
        throw new CliError(
          'E_GENERATIONS_OFF',
          `generations are off for this stack: Redis holds no generation under "${prefix}"; ` +
            "pass --generation N (the apps' generation option) if they use generations",
        )
      }
      const generation = await session.stack.bumpGeneration()
      return { json: { generation }, text: `key generation is now ${generation}` }
    },
  }
}

/** `prune`. */
export function prune(namespace?: string): Change {
  return {
    action: `prune unreachable keys (expired, tag-invalidated, earlier generations)${where(namespace)}`,
    scans: true,
    async run(session) {
      const result = await viewOf(session.stack, namespace).prune()
      return {
        json: { ...result, namespace: namespace ?? null },
        text:
          `removed ${count(result.removed)} of ${count(result.scanned)} keys ` +
          `(${count(result.expired)} expired, ${count(result.invalidated)} tag-invalidated, ` +
          `${count(result.oldGenerations)} of earlier generations)`,
      }
    },
  }
}

// The commands that only read: stats, keys, inspect and get. They run without a bus.

import type { CacheStack } from '@cachestack/core'
import { within } from './connect.ts'
import { CliError } from './errors.ts'
import { count, duration, type Report } from './output.ts'
import { Progress } from './progress.ts'
import type { Session } from './session.ts'

/** The view a command works in: the root, or `--namespace a:b` (nested namespaces by colons). */
export function viewOf(stack: CacheStack, namespace: string | undefined): CacheStack {
  if (namespace === undefined) return stack
  const parts = namespace.split(':')
  if (parts.includes('')) {
    throw new CliError('E_USAGE', `--namespace "${namespace}" has an empty part (use a or a:b)`)
  }
  return parts.reduce((view, part) => view.namespace(part), stack)
}

/** `stats`: what the stack holds in Redis, per top-level namespace, and who listens on the bus. */
export async function stats(session: Session): Promise<Report> {
  const { stack, connection, settings } = session
  const namespaces = new Map<string, number>()
  let entries = 0
  const progress = new Progress('scanning')
  try {
    for await (const key of stack.keys()) {
      entries++
      progress.tick()
      const cut = key.indexOf(':')
      const top = cut === -1 ? '' : key.slice(0, cut)
      namespaces.set(top, (namespaces.get(top) ?? 0) + 1)
    }
  } finally {
    progress.done()
  }
  const nodes = await Promise.all(
    connection.masters().map(async (node) => {
      const info = await within(node.info(), settings.timeout, 'Redis')
      const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim()
      return {
        address: `${node.options.host}:${node.options.port}`,
        version: field('redis_version') ?? 'unknown',
        keys: await within(node.dbsize(), settings.timeout, 'Redis'),
        usedMemory: Number(field('used_memory') ?? 0),
        usedMemoryHuman: field('used_memory_human') ?? '?',
      }
    }),
  )
  const listeners = await session.listeners()
  const generation = stack.getGeneration()
  const top = [...namespaces].sort((a, b) => b[1] - a[1])
  const json = {
    redis: { url: connection.shown, cluster: connection.cluster, nodes },
    prefix: settings.prefix,
    generation: generation ?? null,
    entries,
    namespaces: Object.fromEntries(top),
    bus: { channel: settings.channel, listeners },
  }
  const shownTop = top
    .slice(0, 8)
    .map(([name, n]) => `${name === '' ? '(root)' : name} ${count(n)}`)
    .join(', ')
  const memory = nodes.map((node) => node.usedMemoryHuman).join(' + ')
  const text = [
    `redis       ${connection.shown} (${connection.cluster ? `cluster, ${nodes.length} masters` : 'single server'}, Redis ${nodes[0]?.version})`,
    `prefix      ${settings.prefix}  generation ${generation ?? 'off'}`,
    `entries     ${count(entries)}${top.length > 0 ? ` (${shownTop}${top.length > 8 ? ', ...' : ''})` : ''}`,
    `memory      ${memory} for ${count(nodes.reduce((sum, node) => sum + node.keys, 0))} keys in the database`,
    `bus         ${settings.channel}: ${listeners} app${listeners === 1 ? '' : 's'} listening`,
  ]
  return { json, text }
}

/** `keys`: the keys under a prefix, as the apps name them (no stack prefix, no generation). */
export async function keys(
  session: Session,
  options: { prefix?: string; namespace?: string; limit?: number },
): Promise<Report> {
  const found: string[] = []
  const progress = new Progress('scanning')
  try {
    for await (const key of viewOf(session.stack, options.namespace).keys(options.prefix ?? '')) {
      found.push(key)
      progress.tick()
      if (options.limit !== undefined && found.length >= options.limit) break
    }
  } finally {
    progress.done()
  }
  found.sort()
  return {
    json: {
      namespace: options.namespace ?? null,
      prefix: options.prefix ?? '',
      count: found.length,
      keys: found,
    },
    text: found,
  }
}

/** `inspect KEY`: where the entry is, how fresh, its tags. */
export async function inspect(session: Session, key: string, namespace?: string): Promise<Report> {
  const found = await viewOf(session.stack, namespace).inspect(key)
  if (found === undefined) return { json: { key, found: false }, text: [`${key}: not found`] }
  return {
    // JSON has no Infinity: a forever entry's ttls are null.
    json: {
      ...found,
      key,
      found: true,
      freshTtl: Number.isFinite(found.freshTtl) ? found.freshTtl : null,
      staleTtl: Number.isFinite(found.staleTtl) ? found.staleTtl : null,
    },
    text: [
      `key         ${key}`,
      `layers      ${found.foundInLayers.join(', ')}`,
      `fresh for   ${found.isStale ? 'stale' : duration(found.freshTtl)}`,
      `servable    ${duration(found.staleTtl)} (stale windows included)`,
      `tags        ${found.tags.length > 0 ? found.tags.join(', ') : '(none)'}`,
      `created     ${new Date(found.createdAt).toISOString()}`,
    ],
  }
}

/** `get KEY`: the value, as JSON. */
export async function get(session: Session, key: string, namespace?: string): Promise<Report> {
  const value = await viewOf(session.stack, namespace).get(key)
  if (value === undefined) return { json: { key, found: false }, text: [`${key}: not found`] }
  return { json: { key, found: true, value }, text: [JSON.stringify(value, null, 2)] }
}

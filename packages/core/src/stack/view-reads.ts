// The read operations of a view, past the L1 fast path: get (string and object forms), mget, has, ttl
// and inspect, each traced and validated here.

import { CacheMissError, ValidationError } from '../errors.ts'
import { assertKnownOptions } from '../internal/known-options.ts'
import { type CacheEntry, FOREVER } from '../layer.ts'
import type { EntryInspection, MgetEntry } from './api-types.ts'
import { assertOptionsObject, MGET_ITEM_NAMES, OBJECT_READ_NAMES, READ_WHAT } from './call-options.ts'
import { remainingLifetime } from './entry-times.ts'
import type { Factory } from './factory.ts'
import { fastPathAllowed } from './fast-path.ts'
import { type KeyArg, objectKey } from './forms.ts'
import { assertKey } from './keys.ts'
import { READ_OPTION_NAMES, type ReadOptions } from './options.ts'
import { countHit, READ_TRACE } from './read-report.ts'
import { entryValue, type ReadTrace, readThrough } from './reader.ts'
import { type OperationContext, operationChannel, traced } from './tracing.ts'
import type { StackView } from './view.ts'

/** A read that may go through the fast path again (`mget` items use the view's own `get`). */
export type ViewGet = <T>(
  key: string,
  fetch: Factory<T> | undefined,
  options: ReadOptions,
) => Promise<T | undefined>

/** `get` that rejects with `CacheMissError` instead of answering `undefined`. */
export async function getOrThrow(
  view: StackView,
  key: unknown,
  fetcher: Factory<unknown> | undefined,
  options: ReadOptions | undefined,
): Promise<unknown> {
  const value = await readKey(view, key, fetcher, options)
  if (value === undefined)
    throw new CacheMissError(view.namespace + objectKey(key as string | { key: string }))
  return value
}

/**
 * The full read path of `get`. Not async: a string key goes straight to readThrough's promise, one
 * promise hop fewer per read (measurable on a Redis hit, where the whole path is awaited).
 */
export function readKey(
  view: StackView,
  key: unknown,
  fetcher: Factory<unknown> | undefined,
  options: ReadOptions | undefined,
): Promise<unknown> {
  if (typeof key === 'object' && key !== null && !Array.isArray(key))
    return readObject(view, key, fetcher, options)
  try {
    assertKey(key)
    if (fetcher !== undefined && typeof fetcher !== 'function') {
      throw new ValidationError('"fetcher" must be a function', 'fetcher')
    }
    if (options !== undefined) assertOptionsObject(options, READ_OPTION_NAMES, READ_WHAT)
  } catch (error) {
    return Promise.reject(error)
  }
  const asked = (options as { [READ_TRACE]?: ReadTrace } | undefined)?.[READ_TRACE]
  const request = {
    key: view.full(key),
    userKey: key,
    namespace: view.namespace,
    factory: fetcher,
    options,
    trace: asked,
  }
  if (!operationChannel.hasSubscribers) return readThrough(view.engine, request)
  const context: OperationContext = {
    operation: 'get',
    key: view.namespace + key,
    namespace: view.namespace,
    cache: view.root,
    tags: options?.tags,
  }
  const run = traced(context, () => readThrough(view.engine, { ...request, trace: context }))
  return asked === undefined ? run : run.finally(() => Object.assign(asked, pickTrace(context)))
}

async function readObject(
  view: StackView,
  key: object,
  fetcher: Factory<unknown> | undefined,
  options: ReadOptions | undefined,
) {
  assertKnownOptions(key, OBJECT_READ_NAMES, READ_WHAT)
  const { key: inner, factory, defaultValue, ...rest } = key as KeyArg<unknown>
  const value = await readKey(view, inner, factory ?? fetcher, { ...options, ...rest })
  return value === undefined ? defaultValue : value
}

function pickTrace(trace: ReadTrace): ReadTrace {
  return { hit: trace.hit, stale: trace.stale, layer: trace.layer }
}

/** `mget`: one `lookupMany` for every key; keys without a fresh entry go through `get` one by one. */
export function mget<T, G>(
  view: StackView,
  entries: readonly (MgetEntry<T, G> | string)[],
): Promise<(T | undefined)[]> {
  return view.trace(
    () => ({
      operation: 'mget',
      keys: Array.isArray(entries)
        ? entries.map((item) => view.visible(typeof item === 'string' ? item : item?.key) ?? '')
        : undefined,
    }),
    async (context) => {
      view.engine.assertOpen()
      if (!Array.isArray(entries)) throw new ValidationError('"entries" must be an array', 'entries')
      const items = entries.map((item) => (typeof item === 'string' ? { key: item } : item))
      for (const item of items) {
        assertKey(item?.key)
        assertKnownOptions(item, MGET_ITEM_NAMES, 'an option of an mget() item')
      }
      const engine = view.engine
      const values = await engine.access.lookupMany(items.map((item) => view.full(item.key)))
      let hits = 0
      const results = items.map((item, i) => {
        const found = values[i]
        const { key, fetch, ...options } = item
        // The shortcut is a plain fresh hit; forceFresh, slidingTtl, refreshAhead and adaptiveTtl (the
        // item's or the stack's) need what get does on a hit, so those items take get's path.
        if (found && found.freshUntil > engine.clock.now() && engine.fastPath && fastPathAllowed(options)) {
          hits++
          countHit(engine, view.full(key), undefined, found, false)
          return entryValue(found.entry) as T | undefined
        }
        return readKey(view, key, fetch as Factory<unknown> | undefined, options) as Promise<T | undefined>
      })
      if (context) context.hits = hits
      return Promise.all(results)
    },
  )
}

/** `has`: a fresh entry exists (stale and invalidated entries do not count). */
export function has(view: StackView, key: string): Promise<boolean> {
  return view.trace(
    () => ({ operation: 'has', key: view.visible(key) }),
    async (context) => {
      view.engine.assertOpen()
      assertKey(key)
      const found = await view.engine.access.lookup(view.full(key))
      const fresh = found !== undefined && found.freshUntil > view.engine.clock.now() && !found.entry.missing
      if (context) report(view, context, fresh ? found : undefined)
      return fresh
    },
  )
}

function report(view: StackView, context: OperationContext, found: { layer: number } | undefined): void {
  context.hit = found !== undefined
  if (found) context.layer = view.engine.layers[found.layer]!.name
}

/** `ttl`: remaining fresh time in ms (`Infinity` for forever), or `undefined` without a fresh entry. */
export function ttl(view: StackView, key: string): Promise<number | undefined> {
  return view.trace(
    () => ({ operation: 'ttl', key: view.visible(key) }),
    async (context) => {
      view.engine.assertOpen()
      assertKey(key)
      const found = await view.engine.access.lookup(view.full(key))
      if (context) report(view, context, found)
      if (!found) return undefined
      if (found.freshUntil >= FOREVER) return Number.POSITIVE_INFINITY
      const remaining = found.freshUntil - view.engine.clock.now()
      return remaining > 0 ? Math.ceil(remaining) : undefined
    },
  )
}

/** `inspect`: everything known about one entry, or `undefined`. */
export function inspect(view: StackView, key: string): Promise<EntryInspection | undefined> {
  return view.trace(
    () => ({ operation: 'inspect', key: view.visible(key) }),
    async (context) => {
      const inspection = await inspectEntry(view, key)
      if (context) {
        context.hit = inspection !== undefined
        context.layer = inspection?.foundInLayers[0]
      }
      return inspection
    },
  )
}

async function inspectEntry(view: StackView, k: string): Promise<EntryInspection | undefined> {
  view.engine.assertOpen()
  assertKey(k)
  const full = view.full(k)
  const engine = view.engine
  const now = engine.clock.now()
  const foundInLayers: string[] = []
  let best: { entry: CacheEntry; freshUntil: number } | undefined
  for (let i = 0; i < engine.layers.length; i++) {
    const found = await engine.access.peek(i, full)
    if (!found) continue
    foundInLayers.push(engine.layers[i]!.name)
    best ??= found
  }
  if (!best) return undefined
  const { entry, freshUntil } = best
  const end = remainingLifetime(entry, now)
  return {
    key: view.namespace + k,
    foundInLayers,
    freshTtl: freshUntil >= FOREVER ? Number.POSITIVE_INFINITY : Math.max(0, Math.ceil(freshUntil - now)),
    staleTtl: end === undefined ? Number.POSITIVE_INFINITY : Math.max(0, end),
    isStale: now >= freshUntil,
    tags: [...(entry.tags ?? [])],
    createdAt: Math.floor(entry.createdAt),
  }
}

/**
 * A fresh L1 hit answers synchronously and runs no code of anyone's, so it publishes `start`, then `end`
 * with `result` set (what `traceSync` publishes, without entering bound stores that nothing would run
 * in): tracing keeps the fast path, and no promise chain is built for a subscriber.
 */
export function tracedHit<T>(
  view: StackView,
  key: string,
  value: T,
  layer: string,
  options: ReadOptions | undefined,
): Promise<T> {
  const context: OperationContext = {
    operation: 'get',
    key: view.namespace + key,
    namespace: view.namespace,
    cache: view.root,
    tags: options?.tags,
    hit: true,
    stale: false,
    layer,
    synchronous: true,
    result: value,
  }
  operationChannel.start.publish(context)
  operationChannel.end.publish(context)
  return Promise.resolve(value)
}

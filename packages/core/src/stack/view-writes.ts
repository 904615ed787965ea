// The write and delete operations of a view: set (both forms), mset, delete, deleteMany and expire,
// each traced, validated, counted and reported here.

import { ValidationError } from '../errors.ts'
import { assertKnownOptions } from '../internal/known-options.ts'
import type { MsetEntry } from './api-types.ts'
import { assertOptionsObject, OBJECT_SET_NAMES, SET_WHAT } from './call-options.ts'
import { writeValue } from './entry-writes.ts'
import type { SetObject } from './forms.ts'
import { deleteKeys, expireKeys } from './invalidation.ts'
import { assertKey, assertValue } from './keys.ts'
import { ENTRY_OPTION_NAMES, type EntryOptions, resolveEntryOptions } from './options.ts'
import type { StackView } from './view.ts'

/** `set`: writes a value to every layer; also takes `{ key, value, ttl, tags }`. */
export function set<T>(
  view: StackView,
  key: string | SetObject<T>,
  value: T | undefined,
  options: EntryOptions | undefined,
): Promise<void> {
  const object = typeof key === 'object' && key !== null
  return view.trace(
    () => ({
      operation: 'set',
      key: view.visible(object ? key.key : key),
      tags: (object ? key.tags : undefined) ?? options?.tags,
    }),
    async () => {
      if (object) {
        assertKnownOptions(key, OBJECT_SET_NAMES, SET_WHAT)
        const { key: k, value: v, ...rest } = key
        return write(view, k, v, { ...options, ...rest })
      }
      return write(view, key, value, options)
    },
  )
}

async function write(view: StackView, key: unknown, value: unknown, options: EntryOptions | undefined) {
  const engine = view.engine
  engine.assertOpen()
  assertKey(key)
  assertValue(value, key)
  engine.values.assert(view.namespace + key, value)
  if (options !== undefined) assertOptionsObject(options, ENTRY_OPTION_NAMES, SET_WHAT)
  const resolved = options === undefined ? engine.defaults : resolveEntryOptions(options, engine.defaults)
  await writeValue(engine, view.full(key), view.namespace, value, resolved)
}

/** `mset`: every item checked before any is written. */
export function mset<T>(view: StackView, entries: readonly MsetEntry<T>[]): Promise<void> {
  return view.trace(
    () => ({
      operation: 'mset',
      keys: Array.isArray(entries) ? entries.map((item) => view.visible(item?.key) ?? '') : undefined,
    }),
    async () => {
      if (!Array.isArray(entries)) throw new ValidationError('"entries" must be an array', 'entries')
      for (const item of entries) {
        assertKey(item?.key)
        assertKnownOptions(item, OBJECT_SET_NAMES, 'an option of an mset() item')
        assertValue(item.value, item.key)
        view.engine.values.assert(view.namespace + item.key, item.value)
      }
      await Promise.all(entries.map(({ key, value, ...options }) => write(view, key, value, options)))
    },
  )
}

/** `delete`: removes a key from every layer and every instance's L1; true when some layer held it. */
export function deleteKey(view: StackView, key: string): Promise<boolean> {
  return view.trace(
    () => ({ operation: 'delete', key: view.visible(key) }),
    async () => {
      const engine = view.engine
      engine.assertOpen()
      assertKey(key)
      const existed = (await deleteKeys(engine, [view.full(key)])) > 0
      engine.metrics.deletes++
      engine.emitter.emitDelete([view.full(key)])
      return existed
    },
  )
}

/** `deleteMany`: one round trip per layer; one `delete` event per key. */
export function deleteMany(view: StackView, list: readonly string[]): Promise<void> {
  const visible = () => ({
    operation: 'delete' as const,
    keys: Array.isArray(list) ? list.map((key) => view.visible(key) ?? '') : undefined,
  })
  return view.trace(visible, async () => {
    const engine = view.engine
    engine.assertOpen()
    for (const key of list) assertKey(key)
    const full = list.map((key) => view.full(key))
    await deleteKeys(engine, full)
    engine.metrics.deletes += list.length
    engine.emitter.emitDelete(full)
  })
}

/** `expire`: soft delete, the entry turns stale (still served within its grace window). */
export function expire(view: StackView, key: string): Promise<void> {
  return view.trace(
    () => ({ operation: 'expire', key: view.visible(key) }),
    async () => {
      const engine = view.engine
      engine.assertOpen()
      assertKey(key)
      await expireKeys(engine, [view.full(key)])
      engine.emitter.emitExpire(view.full(key))
    },
  )
}

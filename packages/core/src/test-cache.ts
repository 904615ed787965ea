// `createTestCache()`: one namespace per test on a shared stack, removed afterwards, so tests sharing a
// Redis never see each other's entries, tags or keyspace keys.

import { randomUUID } from 'node:crypto'
import { CacheStack } from './cache-stack.ts'
import { LOCK_PREFIX, RATE_PREFIX } from './coordination/store.ts'
import { ValidationError } from './errors.ts'
import { viewOf } from './keyspace/keyspace-methods.ts'
import { SYSTEM_PREFIX } from './stack/shared-state.ts'

/** What `createTestCache()` answers. */
export interface TestCache {
  /** A namespace of its own: the full stack API, keyspaces included. */
  readonly cache: CacheStack
  /** The namespace's name (`test-…`). */
  readonly namespace: string
  /**
   * Removes everything the test wrote through `cache`: entries, tag states of its namespace, keyspace
   * keys, locks and rate-limit windows (on Redis); disconnects the stack when `createTestCache` made it.
   */
  cleanup(): Promise<void>
}

/**
 * A fresh namespace of `shared` (a new in-memory stack when omitted) for one test; `label` is put in
 * the name to tell tests apart when looking at Redis. Works with any test runner.
 */
export function createTestCache(shared?: CacheStack, label = 'test'): TestCache {
  if (shared !== undefined && !(shared instanceof CacheStack)) {
    throw new ValidationError('createTestCache(shared) takes a CacheStack', 'shared')
  }
  if (typeof label !== 'string' || label.length === 0 || label.includes(':')) {
    throw new ValidationError('"label" must be a non-empty string without ":"', 'label')
  }
  const owned = shared === undefined
  const root = shared ?? new CacheStack()
  const namespace = `${label}-${randomUUID()}`
  const cache = root.namespace(namespace)
  return {
    cache,
    namespace,
    async cleanup() {
      await cache.clear()
      const view = viewOf(cache)!
      // Tag states of the namespace (`__cs:tag:<namespace path>…`), kept in shared layers for other instances,
      // and its locks and rate-limit windows (they would only go at their ttl or window).
      const system = [`${SYSTEM_PREFIX}tag:`, LOCK_PREFIX, RATE_PREFIX].map((kind) => kind + view.namespace)
      await Promise.all(view.engine.layers.flatMap((layer) => system.map((under) => layer.clear(under))))
      if (owned) await root.disconnect()
    },
  }
}

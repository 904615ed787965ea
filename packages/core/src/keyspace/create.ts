// `cache.keyspace(options)`: checks the options once, picks the stack's keyspace backend (its Redis
// layer, else memory on the stack clock) and builds the keyspace of the asked kind.

import { ValidationError } from '../errors.ts'
import { assertKnownOptions, nearestName, optionNames } from '../internal/known-options.ts'
import { RedisLayer } from '../layers/redis-layer.ts'
import type { StackEngine } from '../stack/engine.ts'
import type { StackView } from '../stack/view.ts'
import { KEYSPACE_PREFIX, type KeyspaceBackend } from './backend.ts'
import { ListKeyspace, NUMBER_ITEMS, SetKeyspace, STRING_ITEMS } from './collection-keyspaces.ts'
import { assertExpiry, type Expiry } from './expiry.ts'
import type { KeyspaceContext } from './keyspace-base.ts'
import { MemoryKeyspaceBackend } from './memory-backend.ts'
import { type KeyOf, KeyPattern } from './pattern.ts'
import { RedisKeyspaceBackend } from './redis-backend.ts'
import { FloatKeyspace, IntKeyspace, StringKeyspace, StructKeyspace } from './scalar-keyspaces.ts'

/** The keyspace class of each kind, for keys of type `Key`. */
export interface KeyspaceKinds<Key> {
  string: StringKeyspace<Key>
  int: IntKeyspace<Key>
  float: FloatKeyspace<Key>
  struct: StructKeyspace<Key>
  stringList: ListKeyspace<Key, string>
  numberList: ListKeyspace<Key, number>
  stringSet: SetKeyspace<Key, string>
  numberSet: SetKeyspace<Key, number>
}

/** What a keyspace's keys hold. @default 'struct' */
export type KeyspaceKind = keyof KeyspaceKinds<unknown>

/** The keyspace `cache.keyspace({ kind: K, pattern: P })` answers. */
export type KeyspaceOf<K extends KeyspaceKind, P extends string> = KeyspaceKinds<KeyOf<P>>[K]

/** Options of `cache.keyspace(options)`. */
export interface KeyspaceOptions<P extends string = string, K extends KeyspaceKind = KeyspaceKind> {
  /** What the keys hold. @default 'struct' */
  kind?: K | undefined
  /** How a key object becomes a key: `'requests/:userId/:path'` takes `{ userId, path }`. */
  pattern: P
  /** Expiry of writes that give none. @default none: `set` stores without expiry, other writes keep the key's */
  defaultExpiry?: Expiry | undefined
}

const OPTION_NAMES = optionNames<KeyspaceOptions>({ kind: true, pattern: true, defaultExpiry: true })

const KINDS: { readonly [K in KeyspaceKind]: (context: KeyspaceContext) => KeyspaceKinds<unknown>[K] } = {
  string: (context) => new StringKeyspace(context),
  int: (context) => new IntKeyspace(context),
  float: (context) => new FloatKeyspace(context),
  struct: (context) => new StructKeyspace(context),
  stringList: (context) => new ListKeyspace(context, STRING_ITEMS),
  numberList: (context) => new ListKeyspace(context, NUMBER_ITEMS),
  stringSet: (context) => new SetKeyspace(context, STRING_ITEMS),
  numberSet: (context) => new SetKeyspace(context, NUMBER_ITEMS),
}

const backends = new WeakMap<StackEngine, KeyspaceBackend>()

/** Builds the keyspace `options` describe on `view` (its namespace is part of every key). */
export function createKeyspace<P extends string, K extends KeyspaceKind>(
  view: StackView,
  options: KeyspaceOptions<P, K>,
): KeyspaceOf<K, P> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ValidationError('keyspace() takes an options object such as { kind, pattern }', 'options')
  }
  assertKnownOptions(options, OPTION_NAMES, 'an option of keyspace()')
  const kind = options.kind ?? 'struct'
  if (!Object.hasOwn(KINDS, kind)) {
    const nearest = nearestName(String(kind), Object.keys(KINDS))
    throw new ValidationError(
      `"kind" must be one of ${Object.keys(KINDS).join(', ')}; got "${String(kind)}"${nearest ? `; did you mean "${nearest}"?` : ''}`,
      'kind',
    )
  }
  if (options.defaultExpiry !== undefined) assertExpiry(options.defaultExpiry, 'defaultExpiry')
  const context: KeyspaceContext = {
    engine: view.engine,
    view,
    backend: backendOf(view.engine),
    pattern: new KeyPattern(options.pattern),
    prefix: KEYSPACE_PREFIX + view.namespace,
    defaultExpiry: options.defaultExpiry,
  }
  return KINDS[kind](context) as KeyspaceOf<K, P>
}

/**
 * Removes the keyspace keys of `namespace` (`''`: all of them), for `clear()`. A root `clear()` on Redis
 * already removed them with every other key of the layer.
 */
export async function clearKeyspaces(engine: StackEngine, namespace: string): Promise<void> {
  const backend = backends.get(engine)
  if (backend === undefined || (namespace === '' && backend.kind === 'redis')) return
  try {
    await backend.clear(KEYSPACE_PREFIX + namespace)
  } catch (error) {
    // As for the entries of a layer that fails (best-effort writes), the failure is reported, not thrown.
    engine.emitter.emitError(error, 'clear')
  }
}

/**
 * The stack's backend, made on first use: its first `RedisLayer`, else memory when every layer is local.
 * A stack whose shared layer is not Redis (memcached, Postgres) is refused: a counter kept in one
 * process would silently differ between instances.
 */
function backendOf(engine: StackEngine): KeyspaceBackend {
  engine.assertOpen()
  let backend = backends.get(engine)
  if (backend) return backend
  const redis = engine.layers.find((layer) => layer instanceof RedisLayer)
  if (redis) backend = new RedisKeyspaceBackend(redis, engine.controller.signal)
  else {
    const shared = engine.layers.find((layer) => !layer.isLocal)
    if (shared) {
      throw new ValidationError(
        `keyspaces need a RedisLayer in the stack; layer "${shared.name}" is shared but not Redis, and keys kept in one process would differ between instances`,
        'layers',
      )
    }
    backend = new MemoryKeyspaceBackend(engine.clock)
  }
  backends.set(engine, backend)
  return backend
}

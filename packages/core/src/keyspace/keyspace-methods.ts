// The keyspace method of a stack. A base class of the facade (under the coordination methods), so
// cache-stack.ts keeps to caching.

import type { StackView } from '../stack/view.ts'
import { createKeyspace, type KeyspaceKind, type KeyspaceOf, type KeyspaceOptions } from './create.ts'

const views = new WeakMap<object, StackView>()

/** The view behind a stack or namespace (for `createTestCache`); `undefined` for anything else. */
export function viewOf(cache: object): StackView | undefined {
  return views.get(cache)
}

/** `keyspace()` of every `CacheStack` and namespace view. */
export class KeyspaceMethods {
  readonly #view: StackView

  constructor(view: StackView) {
    this.#view = view
    views.set(this, view)
  }

  /**
   * A typed keyspace: keys built from objects by `pattern` (`'requests/:userId'` + `{ userId }`), values
   * of one `kind` with its own operations, on the stack's Redis layer (else in memory). See docs/keyspaces.md.
   */
  keyspace<const P extends string, K extends KeyspaceKind = 'struct'>(
    options: KeyspaceOptions<P, K>,
  ): KeyspaceOf<K, P> {
    return createKeyspace(this.#view, options)
  }
}

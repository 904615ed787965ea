// The group invalidations of a view: clear, tags (hard and soft, any or all), prefix, pattern and the
// key generation, each traced and reported here; `invalidation.ts` does the work on the layers.

import { ValidationError } from '../errors.ts'
import { clearKeyspaces } from '../keyspace/create.ts'
import { clearPrefix, deleteMatching, invalidateTagSet, invalidateTags } from './invalidation.ts'
import { assertKey, globToRegExp } from './keys.ts'
import { scopedTag } from './tags.ts'
import type { StackView } from './view.ts'

/** `clear`: every key of the view, from every layer and every instance. */
export function clear(view: StackView): Promise<void> {
  return view.trace(
    () => ({ operation: 'clear' }),
    async () => {
      const engine = view.engine
      engine.assertOpen()
      const prefix = view.namespace === '' ? '' : engine.generationPrefix + view.namespace
      await clearPrefix(engine, prefix)
      await clearKeyspaces(engine, view.namespace)
      engine.sync.cleared(prefix)
      engine.emitter.emitClear(view.namespace)
    },
  )
}

/** Tag invalidation: `hard` misses afterwards, `soft` turns stale; `all` only hits entries carrying every tag. */
export function invalidateByTags(
  view: StackView,
  tags: readonly string[],
  mode: 'any' | 'all',
  strength: 'hard' | 'soft',
): Promise<void> {
  if (mode !== 'any' && mode !== 'all') throw new ValidationError(`mode must be 'any' or 'all'`, 'mode')
  return view.trace(
    () => ({ operation: 'invalidate', tags, mode: strength }),
    async () => {
      const engine = view.engine
      engine.assertOpen()
      const names = tags.map((tag) => scopedTag(view.namespace, tag))
      if (mode === 'all' && names.length > 1) await invalidateTagSet(engine, names, strength)
      else await invalidateTags(engine, names, strength)
      engine.emitter.emitInvalidate('tags', tags, strength)
    },
  )
}

/** `invalidateByPrefix`: every key of the view starting with `prefix` (SCAN on Redis). */
export function invalidateByPrefix(view: StackView, prefix: string): Promise<void> {
  return view.trace(
    () => ({ operation: 'invalidate', prefix, mode: 'hard' }),
    async () => {
      const engine = view.engine
      engine.assertOpen()
      assertKey(prefix, 'prefix')
      const full = view.full(prefix)
      await clearPrefix(engine, full)
      engine.sync.prefixCleared(full)
      engine.emitter.emitInvalidate('prefix', prefix)
    },
  )
}

/** `invalidateByPattern`: every key of the view matching a glob (`*`, `?`, `[abc]`). */
export function invalidateByPattern(view: StackView, pattern: string): Promise<void> {
  return view.trace(
    () => ({ operation: 'invalidate', pattern, mode: 'hard' }),
    async () => {
      const engine = view.engine
      engine.assertOpen()
      assertKey(pattern, 'pattern')
      const scope = engine.generationPrefix + view.namespace
      const literal = pattern.slice(0, pattern.search(/[*?[\\]|$/))
      await deleteMatching(
        engine,
        scope + literal,
        new RegExp(`^${escapeLiteral(scope)}${globToRegExp(pattern).source.slice(1)}`),
      )
      engine.sync.patternDeleted(scope, pattern)
      engine.emitter.emitInvalidate('pattern', pattern)
    },
  )
}

/** `bumpGeneration`: every key written before now becomes unreachable, on every instance. */
export function bumpGeneration(view: StackView): Promise<number> {
  return view.trace(
    () => ({ operation: 'bumpGeneration' }),
    async () => {
      const engine = view.engine
      engine.assertOpen()
      if (engine.generation === undefined) {
        throw new ValidationError(
          'Generations are off: pass { generation: 1 } to the stack to use them',
          'generation',
        )
      }
      engine.setGeneration(engine.generation + 1)
      await engine.persistGeneration()
      engine.sync.generationBumped(engine.generation!)
      return engine.generation!
    },
  )
}

function escapeLiteral(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}

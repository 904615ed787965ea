// Where a stack keeps its locks and rate-limit windows: on its Redis layer when it has one (shared by
// every instance), else in this process on the stack's clock.

import { ValidationError } from '../errors.ts'
import { RedisLayer } from '../layers/redis-layer.ts'
import type { StackEngine } from '../stack/engine.ts'
import { MemoryCoordination } from './memory-store.ts'
import { RedisCoordination } from './redis-store.ts'
import type { CoordinationStore } from './store.ts'

const stores = new WeakMap<StackEngine, CoordinationStore>()

/**
 * The store of `engine`, made on first use: the first `RedisLayer` of the stack, else memory when every
 * layer is local. A stack whose shared layer is not Redis (memcached, Postgres) is refused: a lock held
 * in one process would not keep the other instances out.
 */
export function storeFor(engine: StackEngine): CoordinationStore {
  engine.assertOpen()
  let store = stores.get(engine)
  if (store) return store
  const redis = engine.layers.find((layer) => layer instanceof RedisLayer)
  if (redis) store = new RedisCoordination(redis, engine.controller.signal)
  else {
    const shared = engine.layers.find((layer) => !layer.isLocal)
    if (shared) {
      throw new ValidationError(
        `locks and rate limits need a RedisLayer in the stack; layer "${shared.name}" is shared but not Redis, and a lock kept in one process would not hold across instances`,
        'layers',
      )
    }
    store = new MemoryCoordination(engine.clock)
  }
  stores.set(engine, store)
  return store
}

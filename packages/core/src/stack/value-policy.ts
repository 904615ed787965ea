import { UnstorableValueError } from '../errors.ts'
import {
  ANY_VALUES,
  commonSupport,
  consequence,
  findUnstorable,
  JSON_VALUES,
  type ValueSupport,
} from '../internal/value-check.ts'
import type { CacheLayer } from '../layer.ts'

/** Refuses, at write time, a value that some layer of the stack would not give back unchanged. */
export class ValuePolicy {
  readonly #layers: readonly { name: string; storable: ValueSupport }[]
  readonly #common: ValueSupport

  constructor(layers: readonly CacheLayer[]) {
    this.#layers = layers.map((layer) => ({ name: layer.name, storable: layer.storable ?? JSON_VALUES }))
    this.#common = commonSupport(this.#layers.map((layer) => layer.storable))
  }

  /** Throws `UnstorableValueError` naming the key, where in the value, what it is and which layer. */
  assert(key: string, value: unknown): void {
    if (this.#common.size === ANY_VALUES.size) return
    const problem = findUnstorable(value, this.#common)
    if (!problem) return
    const layer = this.#layers.find((candidate) => !candidate.storable.has(problem.kind))!
    throw new UnstorableValueError(key, problem.path, problem.what, layer.name, consequence(problem.kind))
  }
}

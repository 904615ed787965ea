// What the memory layer's 'frozen-copy' mode stores: a structured clone, deep-frozen so that a hit can be
// handed out without copying. `Object.freeze` cannot protect everything a clone may hold (a Map's
// entries, a Date's time, a typed array's bytes), so such values are flagged and copied on every read.

/**
 * Deep-freezes the plain objects and arrays of `value` (a private copy) in place. Answers false when it
 * met something that freezing does not make immutable, so the value must be copied on each read.
 */
export function freezeInPlace(value: unknown, seen = new Set<object>()): boolean {
  if (value === null || typeof value !== 'object' || seen.has(value)) return true
  seen.add(value)
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) return false
  Object.freeze(value)
  let frozen = true
  for (const key of Reflect.ownKeys(value)) {
    if (!freezeInPlace((value as Record<PropertyKey, unknown>)[key], seen)) frozen = false
  }
  return frozen
}

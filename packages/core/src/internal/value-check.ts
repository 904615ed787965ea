// What a layer can store faithfully. A value holding anything a layer of the stack would change (a Date
// JSON turns into a string, a class instance it flattens, NaN it turns into null) is refused at `set`
// on every layer, so the same key never means one thing in memory and another in Redis.

/** Kinds of values beyond plain JSON data (objects, arrays, strings, finite numbers, booleans, null). */
export type ValueKind =
  | 'function'
  | 'symbol'
  | 'instance'
  | 'non-finite'
  | 'date'
  | 'map-set'
  | 'bytes'
  | 'bigint'
  | 'cycle'
  | 'array-hole'

/** The kinds a layer gives back unchanged. A layer that does not say is taken to store plain JSON only. */
export type ValueSupport = ReadonlySet<ValueKind>

/** Plain JSON data only: Redis with the `json` serializer, and any layer that does not say. */
export const JSON_VALUES: ValueSupport = new Set()
/** A structured clone: what the memory layer's `frozen-copy` mode keeps (class instances lose their class). */
export const STRUCTURED_VALUES: ValueSupport = new Set<ValueKind>([
  'non-finite',
  'date',
  'map-set',
  'bytes',
  'bigint',
  'cycle',
  'array-hole',
])
/** MessagePack (`serializer: 'msgpack'`): dates (timestamp extension), byte arrays, NaN and infinities. */
export const MSGPACK_VALUES: ValueSupport = new Set<ValueKind>(['non-finite', 'date', 'bytes'])
/** Everything: the memory layer's `reference` mode keeps the very object. */
export const ANY_VALUES: ValueSupport = new Set<ValueKind>([
  ...STRUCTURED_VALUES,
  'function',
  'symbol',
  'instance',
])

/** What was found, where (`.a.b[2]`, `''` for the value itself), and what it is called in a message. */
export interface ValueProblem {
  kind: ValueKind
  path: string
  what: string
}

/** The kinds every layer supports (the intersection). */
export function commonSupport(supports: readonly ValueSupport[]): ValueSupport {
  return new Set([...ANY_VALUES].filter((kind) => supports.every((support) => support.has(kind))))
}

/** The first part of `value` that `support` cannot hold, or `undefined` when all of it can. */
export function findUnstorable(value: unknown, support: ValueSupport): ValueProblem | undefined {
  if (support.size === ANY_VALUES.size) return undefined
  return walk(value, support, '', [])
}

function walk(
  value: unknown,
  support: ValueSupport,
  path: string,
  ancestors: object[],
): ValueProblem | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return undefined
    case 'number':
      return Number.isFinite(value) || support.has('non-finite')
        ? undefined
        : { kind: 'non-finite', path, what: String(value) }
    case 'function':
      return support.has('function') ? undefined : { kind: 'function', path, what: 'a function' }
    case 'symbol':
      return support.has('symbol') ? undefined : { kind: 'symbol', path, what: 'a symbol' }
    case 'bigint':
      return support.has('bigint') ? undefined : { kind: 'bigint', path, what: 'a BigInt' }
  }
  if (value === null) return undefined
  const object = value as object
  if (ancestors.includes(object)) {
    return support.has('cycle') ? undefined : { kind: 'cycle', path, what: 'a circular reference' }
  }
  if (object instanceof Date) return support.has('date') ? undefined : { kind: 'date', path, what: 'a Date' }
  if (ArrayBuffer.isView(object) || object instanceof ArrayBuffer) {
    const name = Buffer.isBuffer(object) ? 'a Buffer' : `a ${object.constructor.name}`
    return support.has('bytes') ? undefined : { kind: 'bytes', path, what: name }
  }
  ancestors.push(object)
  try {
    if (object instanceof Map || object instanceof Set) {
      if (!support.has('map-set')) {
        return { kind: 'map-set', path, what: object instanceof Map ? 'a Map' : 'a Set' }
      }
      for (const [k, v] of object instanceof Map ? object : [...object].entries()) {
        const found =
          walk(k, support, `${path}<key>`, ancestors) ?? walk(v, support, `${path}<entry>`, ancestors)
        if (found) return found
      }
      return undefined
    }
    if (Array.isArray(object)) {
      for (let i = 0; i < object.length; i++) {
        if ((!(i in object) || object[i] === undefined) && !support.has('array-hole')) {
          return { kind: 'array-hole', path: `${path}[${i}]`, what: 'undefined in an array' }
        }
        const found = walk(object[i], support, `${path}[${i}]`, ancestors)
        if (found) return found
      }
      return undefined
    }
    const proto = Object.getPrototypeOf(object)
    if (proto !== Object.prototype && proto !== null && !support.has('instance')) {
      const name = (proto?.constructor as { name?: string } | undefined)?.name || 'class'
      return { kind: 'instance', path, what: `a ${name} instance` }
    }
    if (!support.has('symbol') && Object.getOwnPropertySymbols(object).length > 0) {
      return { kind: 'symbol', path, what: 'a symbol-keyed property' }
    }
    for (const key of Object.keys(object)) {
      const found = walk((object as Record<string, unknown>)[key], support, `${path}.${key}`, ancestors)
      if (found) return found
    }
    return undefined
  } finally {
    ancestors.pop()
  }
}

/** What a layer that cannot hold `kind` does with it, completing "which layer X …". */
export function consequence(kind: ValueKind): string {
  switch (kind) {
    case 'function':
    case 'symbol':
    case 'cycle':
      return 'cannot store'
    case 'bigint':
      return 'cannot store (JSON has no BigInt)'
    case 'instance':
      return 'would give back as a plain object, without its class'
    case 'non-finite':
    case 'array-hole':
      return 'would give back as null'
    case 'date':
      return 'would give back as a string'
    case 'map-set':
      return 'would give back as {}'
    case 'bytes':
      return 'would give back as an object of numbered keys'
  }
}

/** A custom serializer is trusted with everything a serializer can see (not functions or symbols). */
export const CUSTOM_SERIALIZER_VALUES: ValueSupport = new Set<ValueKind>([...STRUCTURED_VALUES, 'instance'])

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
  const found = walk(value, support, [])
  if (!found) return undefined
  // The path is assembled only for a refusal: on the accepted path (every set) the walk allocates no
  // strings, which kept a 1 KB value's check at a few hundred ns instead of a string per node.
  return { kind: found.kind, what: found.what, path: found.segments.reverse().join('') }
}

/** A refusal found by `walk`; `segments` run from the offending part up to the root. */
interface Found {
  kind: ValueKind
  what: string
  segments: string[]
}

function refuse(kind: ValueKind, what: string): Found {
  return { kind, what, segments: [] }
}

function at(found: Found | undefined, segment: string): Found | undefined {
  found?.segments.push(segment)
  return found
}

function walk(value: unknown, support: ValueSupport, ancestors: object[]): Found | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return undefined
    case 'number':
      return Number.isFinite(value) || support.has('non-finite')
        ? undefined
        : refuse('non-finite', String(value))
    case 'function':
      return support.has('function') ? undefined : refuse('function', 'a function')
    case 'symbol':
      return support.has('symbol') ? undefined : refuse('symbol', 'a symbol')
    case 'bigint':
      return support.has('bigint') ? undefined : refuse('bigint', 'a BigInt')
  }
  if (value === null) return undefined
  const object = value as object
  if (ancestors.includes(object)) {
    return support.has('cycle') ? undefined : refuse('cycle', 'a circular reference')
  }
  // Plain objects and arrays first: they are nearly every node of a cached value, and each test below
  // them (instanceof chains, symbol lists) costs on every node of every set.
  const proto = Object.getPrototypeOf(object)
  if (proto === Object.prototype || proto === null) return walkObject(object, support, ancestors)
  if (Array.isArray(object)) return walkArray(object, support, ancestors)
  if (object instanceof Date) return support.has('date') ? undefined : refuse('date', 'a Date')
  if (ArrayBuffer.isView(object) || object instanceof ArrayBuffer) {
    const name = Buffer.isBuffer(object) ? 'a Buffer' : `a ${object.constructor.name}`
    return support.has('bytes') ? undefined : refuse('bytes', name)
  }
  if (object instanceof Map || object instanceof Set) {
    if (!support.has('map-set')) return refuse('map-set', object instanceof Map ? 'a Map' : 'a Set')
    ancestors.push(object)
    let found: Found | undefined
    for (const [k, v] of object instanceof Map ? object : [...object].entries()) {
      found = at(walk(k, support, ancestors), '<key>') ?? at(walk(v, support, ancestors), '<entry>')
      if (found) break
    }
    ancestors.pop()
    return found
  }
  if (!support.has('instance')) {
    const name = (proto?.constructor as { name?: string } | undefined)?.name || 'class'
    return refuse('instance', `a ${name} instance`)
  }
  return walkObject(object, support, ancestors)
}

function walkObject(object: object, support: ValueSupport, ancestors: object[]): Found | undefined {
  if (!support.has('symbol') && Object.getOwnPropertySymbols(object).length > 0) {
    return refuse('symbol', 'a symbol-keyed property')
  }
  ancestors.push(object)
  let found: Found | undefined
  for (const key in object) {
    if (!Object.hasOwn(object, key)) continue
    found = walk((object as Record<string, unknown>)[key], support, ancestors)
    if (found) {
      found.segments.push(`.${key}`)
      break
    }
  }
  ancestors.pop()
  return found
}

function walkArray(array: unknown[], support: ValueSupport, ancestors: object[]): Found | undefined {
  ancestors.push(array)
  let found: Found | undefined
  for (let i = 0; i < array.length; i++) {
    if ((!(i in array) || array[i] === undefined) && !support.has('array-hole')) {
      found = at(refuse('array-hole', 'undefined in an array'), `[${i}]`)
    } else {
      found = walk(array[i], support, ancestors)
      found?.segments.push(`[${i}]`)
    }
    if (found) break
  }
  ancestors.pop()
  return found
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

/** What a Redis-like layer gives back unchanged with `serializer` (`'json'`, `'msgpack'` or a custom one). */
export function serializerValues(serializer: 'json' | 'msgpack' | object): ValueSupport {
  return serializer === 'json'
    ? JSON_VALUES
    : serializer === 'msgpack'
      ? MSGPACK_VALUES
      : CUSTOM_SERIALIZER_VALUES
}

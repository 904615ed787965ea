/** The tag every cached list of a type carries, and every creation of that type purges: `Post:list`. */
export function listTag(typeName: string): string {
  return `${typeName}:list`
}

/** The tag of one entity: `Post:1`. */
export function entityTag(typeName: string, id: string | number): string {
  return `${typeName}:${id}`
}

/**
 * Tags derived from a field's GraphQL return type (printed, e.g. `[Post!]!`) and its result: a list
 * gets `Post:list` plus an entity tag per item with an `id`; one object gets its entity tag (an abstract
 * type uses each item's `__typename`). For `'invalidate'`, a returned object also yields `Post:list`. A mutation creating a `Post` returns a `Post`, so invalidating
 * the same tags purges every cached list that should now contain it.
 */
export function typeTags(
  returnType: { toString(): string },
  result: unknown,
  purpose: 'cache' | 'invalidate' = 'cache',
): string[] {
  const printed = String(returnType)
  const isList = printed.startsWith('[')
  const typeName = printed.replace(/[[\]!]/g, '')
  const tags = new Set<string>()
  // A cached list carries its list tag; a mutation returning even one object purges the lists.
  if (isList || (purpose === 'invalidate' && result !== null && result !== undefined))
    tags.add(listTag(typeName))
  const items = isList ? (Array.isArray(result) ? result : []) : [result]
  for (const item of items) {
    if (!item || typeof item !== 'object') continue
    const { id, __typename } = item as { id?: unknown; __typename?: unknown }
    if (typeof id !== 'string' && typeof id !== 'number') continue
    tags.add(entityTag(typeof __typename === 'string' ? __typename : typeName, id))
  }
  return [...tags]
}

// How cache keys become PostgreSQL `text` and back. `text` cannot hold NUL, so NUL and the escape
// character U+0001 are rewritten as two-character codes. The code is prefix-free and maps character by
// character, so `p` is a prefix of `k` exactly when `encodeKey(p)` is a prefix of `encodeKey(k)`: prefix
// scans stay range scans on the stored form, and every key round-trips unchanged through `keys()`.

const ESCAPE = '\u0001'

/** The stored form of `key`: the key itself unless it holds U+0000 or U+0001. */
export function encodeKey(key: string): string {
  if (!key.includes('\u0000') && !key.includes(ESCAPE)) return key
  let out = ''
  for (const char of key) {
    out += char === '\u0000' ? `${ESCAPE}\u0002` : char === ESCAPE ? `${ESCAPE}${ESCAPE}` : char
  }
  return out
}

/** The key a stored form stands for (the inverse of `encodeKey`). */
export function decodeKey(stored: string): string {
  if (!stored.includes(ESCAPE)) return stored
  let out = ''
  for (let i = 0; i < stored.length; i++) {
    const char = stored[i]!
    if (char !== ESCAPE) {
      out += char
      continue
    }
    out += stored[++i] === ESCAPE ? ESCAPE : '\u0000'
  }
  return out
}

const MAX_CODE_POINT = 0x10ffff

/**
 * The smallest string above every string that starts with `prefix`, in code point order (which is the
 * byte order of UTF-8, so of the "C" collation): `key >= prefix AND key < successor` is the prefix as a
 * range an index can scan. `undefined` when no such string exists (the prefix is all U+10FFFF).
 */
export function prefixSuccessor(prefix: string): string | undefined {
  const points = [...prefix].map((char) => char.codePointAt(0)!)
  while (points.length > 0) {
    const last = points.pop()!
    if (last === MAX_CODE_POINT) continue
    // Skip the surrogate block: a lone surrogate is not a character UTF-8 can carry.
    points.push(last + 1 === 0xd800 ? 0xe000 : last + 1)
    return String.fromCodePoint(...points)
  }
  return undefined
}

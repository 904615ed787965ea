// How cache keys become PostgreSQL `text` and back. `text` cannot hold NUL, so NUL and the escape
// character U+0001 are rewritten as two-character codes. The code is prefix-free and maps character by
// character, so `p` is a prefix of `k` exactly when `encodeKey(p)` is a prefix of `encodeKey(k)`: prefix
// scans stay range scans on the stored form, and every key round-trips unchanged through `keys()`.
// A lone UTF-16 surrogate (not a character; pg would send it as U+FFFD, so 'a\uD800' and 'a\uFFFD' would
// share a row) becomes U+0001 U+0003 and four hex digits. A prefix that ends in half of a surrogate pair
// is then no longer a prefix of the stored key: prefixes should end on whole characters.

const ESCAPE = '\u0001'
// With the u flag a surrogate pair is one code point, so this matches only lone surrogates.
const LONE_SURROGATE = /\p{Surrogate}/u

/** The stored form of `key`: the key itself unless it holds U+0000, U+0001 or a lone surrogate. */
export function encodeKey(key: string): string {
  if (!key.includes('\u0000') && !key.includes(ESCAPE) && !LONE_SURROGATE.test(key)) return key
  let out = ''
  for (const char of key) {
    if (char === '\u0000') out += `${ESCAPE}\u0002`
    else if (char === ESCAPE) out += `${ESCAPE}${ESCAPE}`
    else if (char.length === 1 && LONE_SURROGATE.test(char)) {
      out += `${ESCAPE}\u0003${char.charCodeAt(0).toString(16)}`
    } else out += char
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
    const code = stored[++i]
    if (code === '\u0003') {
      out += String.fromCharCode(Number.parseInt(stored.slice(i + 1, i + 5), 16))
      i += 4
    } else out += code === ESCAPE ? ESCAPE : '\u0000'
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

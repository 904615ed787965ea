// Reads an entry's head as this library writes it, without JSON.parse. The first read of an entry after
// its tag was invalidated decodes the dead Redis copy's head only to learn that it is dead; parsing those
// ~150 characters as JSON (a second string built for it, a generic object, a shape check after) took
// 5-7 µs of that read when it follows network I/O, this reader 3-4 µs (issue 18). The writer is
// `valueLast` in serialization.ts: `JSON.stringify` of the fields below, in this order, absent ones left
// out. Anything else (another order, spaces, an escape in a string, an unknown field) answers
// `undefined` and the caller parses the head as JSON: this reader only has to be right about what it
// accepts, and it accepts nothing JSON.parse would read differently.
import type { EntryHead } from '../layer.ts'

const CREATED_AT = '{"createdAt":'
const FRESH_UNTIL = ',"freshUntil":'
const SWR_UNTIL = ',"swrUntil":'
const GRACE_UNTIL = ',"graceUntil":'
const TAGS = ',"tags":['
const NAMESPACE = ',"namespace":'
const MISSING = ',"missing":true'
const SLIDING = ',"sliding":'
const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const CLOSING_BRACKET = 0x5d
const MINUS = 0x2d
const PLUS = 0x2b
const DOT = 0x2e
const ZERO = 0x30
const NINE = 0x39

// The reading position in the text: module state rather than a position returned beside each value.
// Every read starts by setting it and nothing in between can run another read.
let at = 0

/** The head in `text` before `end` (where `,"value":` starts), or `undefined` when it is not as written. */
export function scanHead(text: string, end: number): EntryHead | undefined {
  at = 0
  const createdAt = readNumberAfter(text, CREATED_AT, end)
  const freshUntil = readNumberAfter(text, FRESH_UNTIL, end)
  const swrUntil = readNumberAfter(text, SWR_UNTIL, end)
  const graceUntil = readNumberAfter(text, GRACE_UNTIL, end)
  // NaN (not there, not a number) and a number too large for a double both fail here.
  if (!(Number.isFinite(createdAt) && Number.isFinite(freshUntil))) return undefined
  if (!(Number.isFinite(swrUntil) && Number.isFinite(graceUntil))) return undefined
  const head: EntryHead = { createdAt, freshUntil, swrUntil, graceUntil }
  if (text.startsWith(TAGS, at)) {
    at += TAGS.length
    const tags: string[] = []
    if (text.charCodeAt(at) === CLOSING_BRACKET) at++
    else {
      for (;;) {
        const tag = readString(text, end)
        if (tag === undefined) return undefined
        tags.push(tag)
        const next = text.charCodeAt(at++)
        if (next === CLOSING_BRACKET) break
        if (next !== COMMA) return undefined
      }
    }
    head.tags = tags
  }
  if (text.startsWith(NAMESPACE, at)) {
    at += NAMESPACE.length
    const namespace = readString(text, end)
    if (namespace === undefined) return undefined
    head.namespace = namespace
  }
  if (text.startsWith(MISSING, at)) {
    at += MISSING.length
    head.missing = true
  }
  if (text.startsWith(SLIDING, at)) {
    const sliding = readNumberAfter(text, SLIDING, end)
    if (!Number.isFinite(sliding)) return undefined
    head.sliding = sliding
  }
  return at === end ? head : undefined
}

/** The JSON number right after `key` at the reading position, or NaN. */
function readNumberAfter(text: string, key: string, end: number): number {
  if (!text.startsWith(key, at)) return Number.NaN
  at += key.length
  const start = at
  const negative = text.charCodeAt(at) === MINUS
  if (negative) at++
  const first = at
  let whole = 0
  if (text.charCodeAt(at) === ZERO)
    at++ // a leading zero stands alone: 012 is not JSON
  else {
    for (let c = text.charCodeAt(at); at < end && c >= ZERO && c <= NINE; c = text.charCodeAt(++at)) {
      whole = whole * 10 + (c - ZERO)
    }
  }
  if (at === first) return Number.NaN
  // Up to 15 digits the sum above is exact; longer, fractional or exponent forms go to Number().
  let exact = at - first <= 15
  if (at < end && text.charCodeAt(at) === DOT) {
    exact = false
    at++
    if (!skipDigits(text, end)) return Number.NaN
  }
  const e = at < end ? text.charCodeAt(at) : 0
  if (e === 0x65 || e === 0x45) {
    exact = false
    const sign = text.charCodeAt(++at)
    if (sign === PLUS || sign === MINUS) at++
    if (!skipDigits(text, end)) return Number.NaN
  }
  if (exact) return negative ? -whole : whole
  return Number(text.slice(start, at))
}

/** Moves past one or more digits; false when there is none. */
function skipDigits(text: string, end: number): boolean {
  const from = at
  for (let c = text.charCodeAt(at); at < end && c >= ZERO && c <= NINE; c = text.charCodeAt(++at)) {}
  return at > from
}

/** A JSON string at the reading position that needs no unescaping, or `undefined`. */
function readString(text: string, end: number): string | undefined {
  if (text.charCodeAt(at) !== QUOTE) return undefined
  const start = at + 1
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      at = i + 1
      return text.slice(start, i)
    }
    // An escape would need decoding, and a raw control character is not JSON: both left to JSON.parse.
    if (c === BACKSLASH || c < 0x20) return undefined
  }
  return undefined
}

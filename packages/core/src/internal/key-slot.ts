// Redis Cluster hash slots: CRC16-XMODEM of the key (or of its `{hash tag}`) modulo 16384, as in the
// Redis Cluster specification. Written here rather than imported from `cluster-key-slot` (which ioredis
// uses) because that package ships no types; the tests check it against `CLUSTER KEYSLOT`.

const TABLE = new Uint16Array(256)
for (let i = 0; i < 256; i++) {
  let crc = i << 8
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  TABLE[i] = crc
}

/** Number of hash slots of a Redis Cluster. */
export const SLOT_COUNT = 16384

/** The Redis Cluster hash slot of `key`. */
export function keySlot(key: string): number {
  const bytes = Buffer.from(key, 'utf8')
  let start = 0
  let end = bytes.length
  const open = bytes.indexOf(0x7b)
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1)
    // An empty tag (`{}`) does not count: the whole key is hashed.
    if (close > open + 1) {
      start = open + 1
      end = close
    }
  }
  let crc = 0
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ bytes[i]!) & 0xff]!
  return crc % SLOT_COUNT
}

/** Groups the positions of `keys` by hash slot, keeping their order within each slot. */
export function groupBySlot(keys: readonly string[]): Map<number, number[]> {
  const groups = new Map<number, number[]>()
  for (let i = 0; i < keys.length; i++) {
    const slot = keySlot(keys[i]!)
    const group = groups.get(slot)
    if (group) group.push(i)
    else groups.set(slot, [i])
  }
  return groups
}

/**
 * A `{hash tag}` that puts any key carrying it in the same Cluster slot as `key`: `key`'s own tag when
 * it has one, else `{key}` itself, else (a `}` outside any tag, or an empty key) the shortest tag of
 * that slot. `whole` tells whether the tag is `key` itself, which then needs no repeating.
 */
export function slotTagOf(key: string): { tag: string; whole: boolean } {
  const open = key.indexOf('{')
  if (open !== -1) {
    const close = key.indexOf('}', open + 1)
    if (close > open + 1) return { tag: key.slice(open, close + 1), whole: false }
  }
  if (key !== '' && !key.includes('}')) return { tag: `{${key}}`, whole: true }
  return { tag: `{${shortTagOf(keySlot(key))}}`, whole: false }
}

const TAG_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'
let shortTags: string[] | undefined

/** The first string in length-then-alphabet order that hashes to `slot` (one table, built on first use). */
function shortTagOf(slot: number): string {
  if (!shortTags) {
    const tags = new Array<string>(SLOT_COUNT)
    let missing = SLOT_COUNT
    // Depth-first over strings of `length` characters, carrying the CRC of the stem along.
    const visit = (stem: string, crc: number, left: number): void => {
      for (let c = 0; c < TAG_ALPHABET.length && missing > 0; c++) {
        const next = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ TAG_ALPHABET.charCodeAt(c)) & 0xff]!
        if (left > 1) {
          visit(stem + TAG_ALPHABET[c], next, left - 1)
          continue
        }
        const at = next % SLOT_COUNT
        if (tags[at] === undefined) {
          tags[at] = stem + TAG_ALPHABET[c]
          missing--
        }
      }
    }
    for (let length = 1; missing > 0; length++) visit('', 0, length)
    shortTags = tags
  }
  return shortTags[slot]!
}

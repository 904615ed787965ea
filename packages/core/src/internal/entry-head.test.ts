import { describe, expect, it, vi } from 'vitest'
import type { CacheEntry } from '../layer.ts'
import { scanHead } from './entry-head.ts'
import { EntryCodec } from './serialization.ts'

const codec = new EntryCodec({
  serializer: 'json',
  compression: undefined,
  compressionThreshold: 1024,
  maxDecompressedSize: 1 << 20,
})
const VALUE_KEY = ',"value":'

/** What the JSON reader makes of the head of `text` (the reference scanHead must agree with). */
function parsedHead(text: string): unknown {
  const cut = text.indexOf(VALUE_KEY)
  try {
    return JSON.parse(`${text.slice(0, cut)}}`)
  } catch {
    return undefined
  }
}

function scan(text: string) {
  return scanHead(text, text.indexOf(VALUE_KEY))
}

// A small seeded generator: the same cases on every run, many shapes of each field.
function random(seed: number) {
  let state = seed
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31
    return state / 2 ** 31
  }
}

describe('scanHead', () => {
  it('reads every head the writer produces exactly as JSON.parse does, fields in the same order', () => {
    const next = random(7)
    const numbers = [
      0,
      -0,
      1,
      -1,
      1_796_525_698_579,
      1_796_525_698_579 + 1 / 1024,
      8.64e15,
      2 ** 53 + 2,
      1e21,
      1.5e-7,
      -2.5e300,
      999_999_999_999_999,
      1_000_000_000_000_000,
      2 ** 64 + 2 ** 12,
      123_456_789_012_345_680_000,
    ]
    const strings = ['users', 'user:1', 'é', '日本', '😀', "it's", 'a b', '', 'ai:0']
    const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!
    for (let n = 0; n < 2000; n++) {
      const entry: CacheEntry = {
        createdAt: pick(numbers),
        freshUntil: pick(numbers),
        swrUntil: next() * 1e13,
        graceUntil: Math.floor(next() * 1e13),
        value: { n },
      }
      if (next() < 0.7) entry.tags = Array.from({ length: Math.floor(next() * 4) }, () => pick(strings))
      if (next() < 0.4) entry.namespace = `${pick(strings)}:`
      if (next() < 0.2) entry.missing = true
      if (next() < 0.3) entry.sliding = pick(numbers)
      const text = codec.encodeText(entry)!
      const scanned = scan(text)
      expect(scanned).toBeDefined()
      expect(Object.keys(scanned!)).toEqual(Object.keys(parsedHead(text) as object))
      expect(scanned).toStrictEqual(parsedHead(text))
    }
  })

  it('leaves to JSON.parse what needs unescaping, and agrees with it when it reads anything', () => {
    for (const tag of ['say "hi"', 'back\\slash', 'line\nbreak', 'tab\t', '\u0001', '\ud800']) {
      const text = codec.encodeText({
        createdAt: 1,
        freshUntil: 2,
        swrUntil: 2,
        graceUntil: 2,
        tags: [tag],
        value: 1,
      })!
      expect(scan(text)).toBeUndefined()
      // The codec still reads the entry: its head through JSON.parse.
      expect(codec.decodeText(text, () => false)).toMatchObject({ tags: [tag], value: 1 })
    }
  })

  it('answers undefined, never a wrong head, for anything not written this way', () => {
    const head = (middle: string) =>
      `{"createdAt":1,"freshUntil":2,"swrUntil":3,"graceUntil":4${middle},"value":1}`
    const broken = [
      '{"createdAt":012,"freshUntil":2,"swrUntil":3,"graceUntil":4,"value":1}',
      '{"createdAt":1.,"freshUntil":2,"swrUntil":3,"graceUntil":4,"value":1}',
      '{"createdAt":.5,"freshUntil":2,"swrUntil":3,"graceUntil":4,"value":1}',
      '{"createdAt":1e,"freshUntil":2,"swrUntil":3,"graceUntil":4,"value":1}',
      '{"createdAt":1e+,"freshUntil":2,"swrUntil":3,"graceUntil":4,"value":1}',
      '{"createdAt":--1,"freshUntil":2,"swrUntil":3,"graceUntil":4,"value":1}',
      '{"createdAt":+1,"freshUntil":2,"swrUntil":3,"graceUntil":4,"value":1}',
      '{"createdAt":0x10,"freshUntil":2,"swrUntil":3,"graceUntil":4,"value":1}',
      '{"createdAt":Infinity,"freshUntil":2,"swrUntil":3,"graceUntil":4,"value":1}',
      '{"createdAt":NaN,"freshUntil":2,"swrUntil":3,"graceUntil":4,"value":1}',
      '{"createdAt":1e400,"freshUntil":2,"swrUntil":3,"graceUntil":4,"value":1}',
      '{"createdAt":"1","freshUntil":2,"swrUntil":3,"graceUntil":4,"value":1}',
      '{"createdAt": 1,"freshUntil":2,"swrUntil":3,"graceUntil":4,"value":1}',
      '{"freshUntil":2,"createdAt":1,"swrUntil":3,"graceUntil":4,"value":1}',
      '{"createdAt":1,"freshUntil":2,"swrUntil":3,"value":1}',
      head(',"tags":["a",]'),
      head(',"tags":[1]'),
      head(',"tags":["a"'),
      head(',"tags":["a]'),
      head(',"tags":"a"'),
      head(',"tags":null'),
      head(',"namespace":1'),
      head(',"namespace":null'),
      head(',"missing":false'),
      head(',"missing":true,"missing":true'),
      head(',"sliding":"5"'),
      head(',"extra":1'),
      head(',"namespace":"a:","tags":["a"]'),
      head(' '),
    ]
    for (const text of broken) expect(scan(text), text).toBeUndefined()
  })

  it('reads an empty tag list and every optional field', () => {
    const text =
      '{"createdAt":-0,"freshUntil":2.5,"swrUntil":3e2,"graceUntil":4E-1,"tags":[],"namespace":"a:b:","missing":true,"sliding":60000,"value":1}'
    expect(scan(text)).toStrictEqual(parsedHead(text))
    expect(Object.is(scan(text)!.createdAt, -0)).toBe(true)
  })
})

describe('a dead entry decoded by its head', () => {
  const dead = (head: { tags?: string[] | undefined }) => head.tags?.includes('gone') === true
  const written = (fields: Partial<CacheEntry>): CacheEntry => ({
    createdAt: 1,
    freshUntil: 2,
    swrUntil: 3,
    graceUntil: 4,
    tags: ['gone'],
    value: 1,
    ...fields,
  })
  const decoded = (entry: CacheEntry) => codec.decodeText(codec.encodeText(entry)!, dead)!

  it('has the fields and value it was written with, its value parsed once, even when frozen', () => {
    const entry = written({ namespace: 'a:', value: { list: [1, 2], none: null } })
    const got = decoded(entry)
    expect(Object.keys(got).sort()).toEqual(Object.keys(entry).sort())
    expect({ ...got }).toStrictEqual(entry)
    expect(JSON.parse(JSON.stringify(got))).toStrictEqual(entry)
    expect(got.value).toBe(got.value)
    const frozen = Object.freeze(decoded(entry))
    expect(frozen.value).toEqual(entry.value)
    expect(frozen.value).toBe(frozen.value)
  })

  it('parses a null value once, like any other (null is not taken for "not parsed yet")', () => {
    const entry = decoded(written({ value: null }))
    const parse = vi.spyOn(JSON, 'parse')
    try {
      expect([entry.value, entry.value, entry.value]).toEqual([null, null, null])
      expect(parse).toHaveBeenCalledTimes(1)
    } finally {
      parse.mockRestore()
    }
    expect({ ...entry }).toStrictEqual(written({ value: null }))
  })
})

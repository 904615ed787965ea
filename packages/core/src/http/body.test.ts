import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { captureAnswer } from './body.ts'

const TEXT: [string, string][] = [['content-type', 'text/plain']]

async function drain(source: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = []
  for await (const part of source) parts.push(part)
  return Buffer.concat(parts).toString()
}

describe('captureAnswer', () => {
  it('captures text, bytes, nothing, a Node stream and a web stream under the cap', async () => {
    const bodies = [
      'hello',
      Buffer.from('hello'),
      Readable.from([Buffer.from('hel'), Buffer.from('lo')]),
      ReadableStream.from([new TextEncoder().encode('hel'), new TextEncoder().encode('lo')]),
    ]
    for (const body of bodies) {
      const { run, replacement } = await captureAnswer({ status: 200, headers: TEXT, body }, 10, 'res')
      expect(replacement).toBeUndefined()
      expect(run.kind === 'captured' && Buffer.from(run.response.body).toString()).toBe('hello')
    }
    const empty = await captureAnswer({ status: 204, headers: [], body: null }, 10, 'res')
    expect(empty.run.kind === 'captured' && empty.run.response.body.byteLength).toBe(0)
  })

  it('hands back a stream of the whole body past the cap, and leaves an event stream alone', async () => {
    const chunks = ['0123456789', 'abcdefghij', 'KLMNOPQRST'].map((part) => Buffer.from(part))
    const big = await captureAnswer({ status: 200, headers: TEXT, body: Readable.from(chunks) }, 15, 'res')
    expect(big.run).toEqual({ kind: 'streamed', reason: 'too-large' })
    expect(await drain(big.replacement as AsyncIterable<Uint8Array>)).toBe('0123456789abcdefghijKLMNOPQRST')
    const events = Readable.from([Buffer.from('data: 1\n\n')])
    const sse = await captureAnswer(
      { status: 200, headers: [['content-type', 'text/event-stream']], body: events },
      1_000,
      'res',
    )
    expect([sse.run, sse.replacement]).toEqual([{ kind: 'streamed', reason: 'event-stream' }, undefined])
    expect(events.readableFlowing).toBe(null)
  })
})

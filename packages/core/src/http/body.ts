/** A body read up to a cap: either whole, or the bytes read so far plus a stream of the whole body. */
export type CollectedBody =
  | { readonly complete: true; readonly body: Uint8Array }
  | { readonly complete: false; readonly stream: AsyncIterable<Uint8Array> }

/** Converts a body chunk (bytes or text) to bytes. */
export function toBytes(chunk: unknown, encoding?: BufferEncoding): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  if (typeof chunk === 'string') return Buffer.from(chunk, encoding ?? 'utf8')
  if (chunk === undefined || chunk === null) return Buffer.alloc(0)
  throw new TypeError(`cannot cache a body chunk of type ${typeof chunk}`)
}

/**
 * Reads a body stream while it stays under `maxBytes`. Past the cap it stops buffering and returns a stream
 * that replays what was read and then the rest, so the client still gets the whole body without the
 * process holding it.
 */
export async function collectBody(source: AsyncIterable<unknown>, maxBytes: number): Promise<CollectedBody> {
  const iterator = source[Symbol.asyncIterator]()
  const head: Buffer[] = []
  let size = 0
  while (true) {
    const next = await iterator.next()
    if (next.done) return { complete: true, body: Buffer.concat(head, size) }
    const chunk = toBytes(next.value)
    head.push(chunk)
    size += chunk.byteLength
    if (size > maxBytes) return { complete: false, stream: replayThenRest(head, iterator) }
  }
}

async function* replayThenRest(head: Buffer[], rest: AsyncIterator<unknown>): AsyncGenerator<Uint8Array> {
  yield* head
  while (true) {
    const next = await rest.next()
    if (next.done) return
    yield toBytes(next.value)
  }
}

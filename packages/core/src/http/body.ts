import type { HandlerRun } from './refresh.ts'
import type { HeaderList } from './stored-response.ts'

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

/** A framework's answer before it is sent: a body that is text, bytes, nothing or a stream (Node or web). */
export interface PendingAnswer {
  readonly status: number
  /** Headers with lower-case names. */
  readonly headers: HeaderList
  readonly body: unknown
}

/** What `captureAnswer` found, and the stream to send in place of the body when it read part of it. */
export interface CapturedAnswer<Res> {
  readonly run: HandlerRun<Res>
  /** Replays what was read, then the rest: send this instead of the original stream. */
  readonly replacement?: AsyncIterable<Uint8Array> | undefined
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return value !== null && typeof value === 'object' && Symbol.asyncIterator in value
}

/**
 * Captures an answer a framework hands over whole (Fastify's `onSend` payload, Hono's `c.res`): an event
 * stream is left to flow; text or bytes are captured; a stream is read while it stays under `maxBodySize`,
 * and past it is handed back as a `replacement` that sends the whole body, unstored.
 */
export async function captureAnswer<Res>(
  answer: PendingAnswer,
  maxBodySize: number,
  res: Res,
): Promise<CapturedAnswer<Res>> {
  const type = answer.headers.find(([name]) => name === 'content-type')?.[1] ?? ''
  if (type.startsWith('text/event-stream')) return { run: { kind: 'streamed', reason: 'event-stream' } }
  let body: Uint8Array
  if (isAsyncIterable(answer.body)) {
    const collected = await collectBody(answer.body, maxBodySize)
    if (!collected.complete) {
      return { run: { kind: 'streamed', reason: 'too-large' }, replacement: collected.stream }
    }
    body = collected.body
  } else {
    body = toBytes(answer.body)
  }
  return {
    run: { kind: 'captured', response: { status: answer.status, headers: answer.headers, body }, res },
  }
}

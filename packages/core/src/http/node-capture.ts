import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import { toBytes } from './body.ts'
import type { HandlerRun, StreamedReason } from './refresh.ts'
import { groupHeaders, type OutgoingResponse } from './reply.ts'
import { type HeaderList, headerListFrom } from './stored-response.ts'

/** How a capture behaves. */
export interface ServerResponseCaptureOptions {
  /** Past this many body bytes the response is streamed through instead of buffered. */
  maxBodySize: number
  /** Headers added when the capture gives up buffering and streams the response through. */
  passThroughHeaders(reason: StreamedReason): HeaderList
  /** Awaited (with the status) before anything is streamed through; writes keep buffering meanwhile. */
  beforePassThrough?: ((status: number) => Promise<void>) | undefined
  /**
   * Settle as `unseen` when the response closes before the handler ends it (the client left), so requests
   * waiting on the same key are released. `false` keeps capturing: a mutation still wants its status.
   * @default true
   */
  settleOnClose?: boolean | undefined
}

const PATCHED = ['writeHead', 'write', 'end', 'flushHeaders'] as const
type Patched = (typeof PATCHED)[number]
type Callback = (error?: Error | null) => void

/**
 * Buffers what a handler writes to a Node `ServerResponse` — through `res.json`, `res.send`, `res.end`,
 * `res.write` or a piped stream — by patching `writeHead`/`write`/`end`/`flushHeaders` on the object
 * (never the prototype) and restoring them afterwards. Compression middleware installed after the
 * capture wraps the patched methods, so the bytes captured are the bytes the client would get.
 *
 * Resolves with the buffered response (nothing sent yet), or with `streamed` once the body outgrows the
 * cap or is an event stream: the response then flows to the client as the handler writes it.
 */
export function captureServerResponse<Res extends ServerResponse>(
  res: Res,
  options: ServerResponseCaptureOptions,
): Promise<HandlerRun<Res>> {
  const target = res as unknown as Record<Patched, unknown>
  const saved = PATCHED.map((name) => ({ name, fn: target[name] }))
  const chunks: Buffer[] = []
  const callbacks: Callback[] = []
  let size = 0
  let status: number | undefined
  let ended = false
  let passing = false

  // Restored by assignment, never `delete`: deleting a property other than the last one added turns the
  // response into a dictionary-mode object, and every later access by Node's HTTP code gets slower.
  const restore = () => {
    for (const { name, fn } of saved) target[name] = fn
  }

  return new Promise<HandlerRun<Res>>((settle) => {
    let settled = false
    const resolve = (run: HandlerRun<Res>) => {
      settled = true
      settle(run)
    }
    // A handler that gives up when its client goes away never ends the response; without this, every
    // request waiting on the same key would wait for it forever.
    res.once('close', () => {
      if (settled || options.settleOnClose === false) return
      restore()
      resolve({ kind: 'streamed', reason: 'unseen' })
    })
    const finish = () => {
      restore()
      const headers = headerListFrom(res.getHeaders() as Record<string, string | string[] | number>)
      resolve({
        kind: 'captured',
        response: { status: status ?? res.statusCode, headers, body: Buffer.concat(chunks, size) },
        res,
      })
    }

    const passThrough = (reason: 'too-large' | 'event-stream') => {
      passing = true
      resolve({ kind: 'streamed', reason })
      const code = status ?? res.statusCode
      const flush = () => {
        restore()
        for (const [name, value] of options.passThroughHeaders(reason)) res.setHeader(name, value)
        res.writeHead(code)
        for (const chunk of chunks) res.write(chunk)
        chunks.length = 0
        for (const callback of callbacks.splice(0)) callback()
        if (ended) res.end()
      }
      if (!options.beforePassThrough) return flush()
      options.beforePassThrough(code).then(flush, flush)
    }

    const isEventStream = () => String(res.getHeader('content-type') ?? '').startsWith('text/event-stream')

    const append = (chunk: unknown, encoding?: BufferEncoding, callback?: Callback) => {
      const bytes = toBytes(chunk, encoding)
      if (bytes.byteLength) chunks.push(bytes)
      size += bytes.byteLength
      if (callback) {
        if (passing) callbacks.push(callback)
        else process.nextTick(callback)
      }
      if (!passing && (size > options.maxBodySize || isEventStream())) {
        passThrough(isEventStream() ? 'event-stream' : 'too-large')
      }
    }

    target.writeHead = (code: number, ...rest: unknown[]) => {
      status = code
      if (typeof rest[0] === 'string') res.statusMessage = rest.shift() as string
      const headers = rest[0] as OutgoingHttpHeaders | readonly string[] | undefined
      if (Array.isArray(headers)) {
        for (let i = 0; i + 1 < headers.length; i += 2)
          res.setHeader(headers[i] as string, headers[i + 1] as string)
      } else if (headers) {
        for (const [name, value] of Object.entries(headers))
          if (value !== undefined) res.setHeader(name, value)
      }
      if (!passing && isEventStream()) passThrough('event-stream')
      return res
    }
    target.flushHeaders = () => {
      if (!passing && isEventStream()) passThrough('event-stream')
    }
    target.write = (chunk: unknown, encoding?: BufferEncoding | Callback, callback?: Callback) => {
      if (typeof encoding === 'function') [callback, encoding] = [encoding, undefined]
      append(chunk, encoding, callback)
      return true
    }
    target.end = (chunk?: unknown, encoding?: BufferEncoding | Callback, callback?: Callback) => {
      if (typeof chunk === 'function') [callback, chunk] = [chunk as Callback, undefined]
      if (typeof encoding === 'function') [callback, encoding] = [encoding, undefined]
      if (ended) return res
      // Marked ended before the last chunk is appended: when that chunk is the one that crosses the cap
      // (a whole body sent in one call), the pass-through it starts must end the response too, or the
      // client waits for a chunked body that never ends and the server never emits `finish`, which
      // stalls every later request on the same keep-alive connection.
      ended = true
      if (callback) res.once('finish', () => callback())
      append(chunk, encoding)
      if (!passing) finish()
      return res
    }
  })
}

/**
 * Drops the next answer a framework writes to `res` (through `writeHead`/`write`/`end`/`flushHeaders`)
 * and calls `ended` once it has ended, with the methods restored: for an adapter that already has the
 * answer but whose framework replies anyway (NestJS after an interceptor). Nothing is buffered and the
 * headers passed to `writeHead` are never applied; headers set on `res` meanwhile stay, for `ended` to judge.
 */
export function discardNextAnswer(res: ServerResponse, ended: () => void): void {
  const target = res as unknown as Record<Patched, unknown>
  const saved = PATCHED.map((name) => target[name])
  target.writeHead = () => res
  target.flushHeaders = () => {}
  target.write = (_chunk: unknown, encoding?: unknown, callback?: Callback) => {
    const done = typeof encoding === 'function' ? (encoding as Callback) : callback
    if (done) process.nextTick(done)
    return true
  }
  target.end = (chunk?: unknown, encoding?: unknown, callback?: Callback) => {
    const done = [chunk, encoding, callback].find((arg) => typeof arg === 'function') as Callback | undefined
    PATCHED.forEach((name, i) => {
      target[name] = saved[i]
    })
    if (done) res.once('finish', () => done())
    ended()
    return res
  }
}

/** Writes an answer to a Node `ServerResponse` (headers replace any of the same name already set). */
export function writeServerResponse(res: ServerResponse, response: OutgoingResponse): void {
  const headers = response.headers
  // A header repeated in the list (`Link`, `Vary`...) is set once with all its values; most answers have none.
  if (hasRepeatedName(headers)) for (const [name, value] of groupHeaders(headers)) res.setHeader(name, value)
  else for (const [name, value] of headers) res.setHeader(name, value)
  if (response.body === null) res.removeHeader('transfer-encoding')
  res.writeHead(response.status)
  res.end(response.body ?? undefined)
}

function hasRepeatedName(headers: HeaderList): boolean {
  for (let i = 1; i < headers.length; i++) {
    const name = (headers[i] as [string, string])[0]
    for (let j = 0; j < i; j++) if ((headers[j] as [string, string])[0] === name) return true
  }
  return false
}

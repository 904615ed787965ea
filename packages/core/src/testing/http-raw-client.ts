import { connect, type Socket } from 'node:net'
import type { ClientResponse } from './http-clients.ts'
import { REQUEST_TIMEOUT_MS } from './http-clients.ts'

/** A request written byte for byte: any target (absolute-form, dot segments...), any header, a body on GET. */
export interface RawRequest {
  /** @default 'GET' */
  readonly method?: string
  /** The request target exactly as it goes on the wire (`/page`, `http://other.example/page`, `//page`). */
  readonly target: string
  /** Extra headers; a `host` here replaces the default `127.0.0.1:<port>`. */
  readonly headers?: Readonly<Record<string, string>>
  /** A body, sent with `Content-Length` (or chunked with `chunked`). */
  readonly body?: string
  readonly chunked?: boolean
}

interface Parsed {
  response: ClientResponse
  rest: Buffer
}

const HEADER_END = Buffer.from('\r\n\r\n')

/** Parses one complete response off the front of `data`, or answers undefined when more bytes are needed. */
function parseResponse(data: Buffer, bodiless: boolean): Parsed | undefined {
  const end = data.indexOf(HEADER_END)
  if (end === -1) return undefined
  const [statusLine = '', ...lines] = data.subarray(0, end).toString('latin1').split('\r\n')
  const status = Number(statusLine.split(' ')[1])
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`
  }
  let offset = end + HEADER_END.length
  let body: Buffer
  if (bodiless || status === 204 || status === 304) body = Buffer.alloc(0)
  else if ((headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked')) {
    const parts: Buffer[] = []
    for (;;) {
      const lineEnd = data.indexOf('\r\n', offset)
      if (lineEnd === -1) return undefined
      const size = Number.parseInt(data.subarray(offset, lineEnd).toString('latin1'), 16)
      if (data.length < lineEnd + 2 + size + 2) return undefined
      if (size === 0) {
        offset = lineEnd + 4
        break
      }
      parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size))
      offset = lineEnd + 2 + size + 2
    }
    body = Buffer.concat(parts)
  } else {
    const length = Number(headers['content-length'] ?? 0)
    if (data.length < offset + length) return undefined
    body = data.subarray(offset, offset + length)
    offset += length
  }
  return {
    response: { status, headers, body: Buffer.from(body), text: body.toString('utf8') },
    rest: data.subarray(offset),
  }
}

/**
 * An HTTP/1.1 client on one keep-alive socket that writes requests exactly as given, as an attacker's
 * script does: Node's `http` and undici refuse or rewrite absolute-form targets, dot segments and GET bodies.
 */
export class RawHttpClient {
  readonly #socket: Socket
  readonly #port: number
  #data: Buffer = Buffer.alloc(0)
  #closed = false
  #waiter: (() => void) | undefined
  /** Requests sent so far; all on the one socket. */
  requests = 0

  private constructor(socket: Socket, port: number) {
    this.#socket = socket
    this.#port = port
    socket.on('data', (chunk: Buffer) => {
      this.#data = Buffer.concat([this.#data, chunk])
      this.#waiter?.()
    })
    socket.on('close', () => {
      this.#closed = true
      this.#waiter?.()
    })
    socket.on('error', () => {})
  }

  /** Connects to `127.0.0.1:port`. */
  static open(port: number): Promise<RawHttpClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawHttpClient(socket, port)))
      socket.once('error', reject)
    })
  }

  /** Sends one request and reads its whole answer; the socket stays open for the next. */
  async request(request: RawRequest): Promise<ClientResponse> {
    if (this.#closed) throw new Error('the server closed the keep-alive connection')
    const method = request.method ?? 'GET'
    const headers: Record<string, string> = { host: `127.0.0.1:${this.#port}`, ...request.headers }
    let body = ''
    if (request.body !== undefined) {
      if (request.chunked) {
        headers['transfer-encoding'] = 'chunked'
        body = `${Buffer.byteLength(request.body).toString(16)}\r\n${request.body}\r\n0\r\n\r\n`
      } else {
        headers['content-length'] = String(Buffer.byteLength(request.body))
        body = request.body
      }
    }
    const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`)
    this.requests++
    this.#socket.write(`${method} ${request.target} HTTP/1.1\r\n${head.join('')}\r\n${body}`)
    const deadline = Date.now() + REQUEST_TIMEOUT_MS
    for (;;) {
      const parsed = parseResponse(this.#data, method === 'HEAD')
      if (parsed) {
        this.#data = parsed.rest
        return parsed.response
      }
      if (this.#closed)
        throw new Error(`${method} ${request.target}: connection closed before the answer ended`)
      if (Date.now() > deadline)
        throw new Error(`${method} ${request.target}: no answer within ${REQUEST_TIMEOUT_MS} ms`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50)
        this.#waiter = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      this.#waiter = undefined
    }
  }

  /** True while the server keeps the connection open. */
  get open(): boolean {
    return !this.#closed
  }

  close(): void {
    this.#socket.destroy()
  }
}

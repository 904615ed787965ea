import { Agent, type IncomingHttpHeaders, request } from 'node:http'

/** One answer, body never decoded: the bytes are compared as the client got them. */
export interface ClientResponse {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
  text: string
  /** True when the request went out on a socket an earlier request already used. */
  reusedSocket: boolean
}

/**
 * A keep-alive HTTP client pinned to one socket by default, as browsers and load balancers talk to a
 * server: many requests in a row on one connection, across every code path.
 */
export class KeepAliveClient {
  readonly agent: Agent
  readonly #port: number
  sockets = 0

  constructor(port: number, maxSockets = 1) {
    this.#port = port
    this.agent = new Agent({ keepAlive: true, maxSockets })
    this.agent.on('free', () => {})
  }

  send(
    method: string,
    path: string,
    headers: Record<string, string> = {},
    body?: string,
  ): Promise<ClientResponse> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: this.#port, method, path, headers, agent: this.agent },
        (res) => {
          const parts: Buffer[] = []
          res.on('data', (chunk: Buffer) => parts.push(chunk))
          res.on('end', () => {
            const bytes = Buffer.concat(parts)
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: bytes,
              text: bytes.toString('utf8'),
              reusedSocket: req.reusedSocket,
            })
          })
          res.on('error', reject)
        },
      )
      req.on('socket', (socket) => {
        if (!req.reusedSocket) this.sockets++
        socket.setNoDelay(true)
      })
      req.on('error', reject)
      req.end(body)
    })
  }

  get(path: string, headers?: Record<string, string>): Promise<ClientResponse> {
    return this.send('GET', path, headers)
  }

  close(): void {
    this.agent.destroy()
  }
}

import { Agent, request as httpRequest, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Agent as UndiciAgent, fetch as undiciFetch } from 'undici'

// StartedApp lives here, not in http-harness.ts: the harness and the poisoning suite both need it.
/** A started app: the Node server it listens on (127.0.0.1, any port) and how to stop it. */
export interface StartedApp {
  readonly server: Server
  close(): Promise<void>
}

/** An answer as a client saw it: header names in lower case, the body as raw bytes. */
export interface ClientResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: Buffer
  /** The body as UTF-8 text. */
  readonly text: string
}

/** How a contract client talks to the server. */
export type ClientKind = 'keep-alive agent' | 'undici fetch' | 'new connection each'

/** A client of the contract suite: requests go out one after the other, like a browser tab's. */
export interface ContractClient {
  readonly kind: ClientKind
  /** Connections the server should have seen for the requests sent so far. */
  expectedConnections(): number
  request(method: string, path: string, headers?: Record<string, string>): Promise<ClientResponse>
  close(): void
}

/** Every client kind the contract runs its cases with. */
export const CLIENT_KINDS: readonly ClientKind[] = ['keep-alive agent', 'undici fetch', 'new connection each']

/**
 * How long a request may go unanswered before the client gives up. A wedged response is a request that
 * never gets an answer, so this is the longest a failing case can take, not a timing assertion.
 */
export const REQUEST_TIMEOUT_MS = 8_000

function nodeRequest(
  port: number,
  agent: Agent | false,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (chunk: Buffer) => parts.push(chunk))
      res.on('error', reject)
      res.on('end', () => {
        const flat: Record<string, string> = {}
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value
        }
        const body = Buffer.concat(parts)
        resolve({ status: res.statusCode ?? 0, headers: flat, body, text: body.toString('utf8') })
      })
    })
    req.setTimeout(REQUEST_TIMEOUT_MS, () =>
      req.destroy(new Error(`${method} ${path}: no answer within ${REQUEST_TIMEOUT_MS} ms (wedged?)`)),
    )
    req.on('error', reject)
    req.end()
  })
}

/** Opens a client of the given kind against a listening server. */
export function openClient(kind: ClientKind, server: Server): ContractClient {
  const { port } = server.address() as AddressInfo
  if (kind === 'keep-alive agent') {
    // One socket at most: a wedged response then blocks the next request instead of hiding behind a new socket.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    let sent = 0
    return {
      kind,
      expectedConnections: () => Math.min(sent, 1),
      request: (method, path, headers = {}) => {
        sent++
        return nodeRequest(port, agent, method, path, headers)
      },
      close: () => agent.destroy(),
    }
  }
  if (kind === 'new connection each') {
    let sent = 0
    return {
      kind,
      expectedConnections: () => sent,
      request: (method, path, headers = {}) => {
        sent++
        return nodeRequest(port, false, method, path, { ...headers, connection: 'close' })
      },
      close: () => {},
    }
  }
  // undici's pool opens another connection when a request goes out before the last response's socket is
  // handed back, even one after another; one connection per origin makes reuse a property the case can assert.
  const dispatcher = new UndiciAgent({ connections: 1 })
  let sent = 0
  let heads = 0
  return {
    kind,
    expectedConnections: () => Math.min(sent, 1) + heads,
    request: async (method, path, headers = {}) => {
      // undici closes a connection after a HEAD on purpose (nodejs/undici#258, servers that send a body
      // anyway), so a HEAD goes out on a connection of its own and the main one stays comparable.
      const head = method === 'HEAD'
      if (head) heads++
      else sent++
      const own = head ? new UndiciAgent({ connections: 1 }) : dispatcher
      const res = await undiciFetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers,
        dispatcher: own,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      })
      const body = Buffer.from(await res.arrayBuffer())
      const flat: Record<string, string> = {}
      res.headers.forEach((value, name) => {
        flat[name] = value
      })
      if (head) await own.destroy()
      return { status: res.status, headers: flat, body, text: body.toString('utf8') }
    },
    close: () => void dispatcher.destroy().catch(() => {}),
  }
}

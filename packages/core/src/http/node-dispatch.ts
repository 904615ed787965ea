import type { IncomingHttpHeaders } from 'node:http'
import { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'

/** A Node request handler: Express's `app.handle`, or anything shaped like `http.createServer`'s listener. */
export type NodeRequestHandler = (req: IncomingMessage, res: ServerResponse, done: () => void) => void

/** What a detached request shows of the connection it copies. */
export interface DetachedPeer {
  readonly remoteAddress?: string | undefined
  readonly remoteFamily?: string | undefined
  readonly remotePort?: number | undefined
  readonly encrypted?: boolean | undefined
}

/**
 * A socket that is connected to nothing but shows `peer`'s address and TLS flag: frameworks decide from
 * these whether to trust forwarding headers (Express `trust proxy`), so a copy of a proxied request must
 * keep them to be answered for the same host and scheme.
 */
export function detachedSocket(peer?: DetachedPeer): Socket {
  const socket = new Socket()
  if (peer) {
    for (const name of ['remoteAddress', 'remoteFamily', 'remotePort', 'encrypted'] as const) {
      Object.defineProperty(socket, name, { value: peer[name], configurable: true })
    }
  }
  return socket
}

/**
 * Sends a `GET` for `target` through a Node request handler on a request and response attached to no socket:
 * a background refresh runs the whole application, middleware included, with no client waiting on it. `peer`
 * (the original request's socket) lends the copy its address and TLS flag.
 */
export function dispatchDetached(
  handle: NodeRequestHandler,
  target: string,
  headers: IncomingHttpHeaders,
  peer?: DetachedPeer,
): void {
  const req = new IncomingMessage(detachedSocket(peer))
  req.method = 'GET'
  req.url = target
  req.headers = headers
  req.push(null)
  handle(req, new ServerResponse(req), () => {})
}

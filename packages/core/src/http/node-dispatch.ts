import type { IncomingHttpHeaders } from 'node:http'
import { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'

/** A Node request handler: Express's `app.handle`, or anything shaped like `http.createServer`'s listener. */
export type NodeRequestHandler = (req: IncomingMessage, res: ServerResponse, done: () => void) => void

/**
 * Sends a `GET` for `target` through a Node request handler on a request and response attached to no socket:
 * a background refresh runs the whole application, middleware included, with no client waiting on it.
 */
export function dispatchDetached(
  handle: NodeRequestHandler,
  target: string,
  headers: IncomingHttpHeaders,
): void {
  const req = new IncomingMessage(new Socket())
  req.method = 'GET'
  req.url = target
  req.headers = headers
  req.push(null)
  handle(req, new ServerResponse(req), () => {})
}

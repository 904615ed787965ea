import { randomUUID } from 'node:crypto'
import type { CapturedResponse } from './stored-response.ts'

/**
 * Why an answer went to the client without being stored: its body outgrew the cap, it is an event stream,
 * or the cache never saw it (the handler wrote around the adapter, as after Fastify's `reply.hijack()`, or
 * the client went away before the handler answered).
 */
export type StreamedReason = 'too-large' | 'event-stream' | 'unseen' | 'refresh-origin'

/** What running the handler gave: a buffered response, or one that was streamed straight to the client. */
export type HandlerRun<Res> =
  | { readonly kind: 'captured'; readonly response: CapturedResponse; readonly res: Res }
  | { readonly kind: 'streamed'; readonly reason: StreamedReason }

/**
 * Request header that marks a background refresh re-dispatched through the application. Its value is an
 * unguessable id known to this process only, so a client cannot forge a refresh.
 */
export const REFRESH_HEADER = 'x-cachestack-refresh'

interface PendingRefresh {
  owner: object
  /** The origin the refreshed request had; the copy must reach the handler with the same one. */
  origin: string | undefined
  resolve(run: HandlerRun<unknown>): void
}

// Shared by every cache instance of the process: a refresh dispatched by one middleware passes untouched
// through any other cache middleware it meets on its way to the handler.
const pending = new Map<string, PendingRefresh>()

/** How a request relates to background refreshes. */
export type RefreshRole =
  | { readonly role: 'none' }
  | { readonly role: 'foreign' }
  | { readonly role: 'owner'; deliver(run: HandlerRun<unknown>): void }

/**
 * Tells whether a request is a refresh dispatched by `owner`, by another cache, or a client request. A
 * refresh that reaches the application at another origin than the request it refreshes (the framework did
 * not trust the detached copy's address, say, and read `Host` instead of `X-Forwarded-Host`) would store an
 * answer with the wrong links under that request's key: its answer is delivered as not storable instead.
 */
export function refreshRole(owner: object, header: string | undefined, origin?: string): RefreshRole {
  if (!header) return { role: 'none' }
  const entry = pending.get(header)
  if (!entry) return { role: 'none' }
  if (entry.owner !== owner) return { role: 'foreign' }
  pending.delete(header)
  if (entry.origin !== origin) {
    return { role: 'owner', deliver: () => entry.resolve({ kind: 'streamed', reason: 'refresh-origin' }) }
  }
  return { role: 'owner', deliver: entry.resolve }
}

/**
 * Runs `dispatch` with a fresh refresh id and resolves with the handler's answer once the owner's
 * middleware captured it; rejects after `timeout` ms or when `signal` aborts.
 */
export function runRefresh<Res>(
  owner: object,
  dispatch: (headers: Record<string, string>) => void,
  timeout: number,
  signal?: AbortSignal,
  origin?: string,
): Promise<HandlerRun<Res>> {
  const id = randomUUID()
  return new Promise<HandlerRun<Res>>((resolve, reject) => {
    const fail = (reason: unknown) => {
      pending.delete(id)
      clearTimeout(timer)
      reject(reason)
    }
    const timer = setTimeout(() => fail(new Error(`refresh not answered within ${timeout} ms`)), timeout)
    timer.unref()
    signal?.addEventListener('abort', () => fail(signal.reason), { once: true })
    pending.set(id, {
      owner,
      origin,
      resolve: (run) => {
        clearTimeout(timer)
        resolve(run as HandlerRun<Res>)
      },
    })
    try {
      dispatch({ [REFRESH_HEADER]: id })
    } catch (error) {
      fail(error)
    }
  })
}

/** Rejects when `work` has not settled within `timeout` ms (an abandoned background refresh). */
export function withTimeout<T>(work: Promise<T>, timeout: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`refresh not answered within ${timeout} ms`)), timeout)
    timer.unref()
    work.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}

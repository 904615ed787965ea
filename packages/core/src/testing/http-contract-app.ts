import { CacheStack } from '../cache-stack.ts'
import { MemoryLayer } from '../layers/memory-layer.ts'
import type { ClientKind } from './http-clients.ts'
import type { ContractAnswer, ContractRequest, HttpAdapterHarness, OpenApp } from './http-harness.ts'
import { openApp } from './http-harness.ts'
import { type AdvanceableClock, createManualClock } from './layer-contract.ts'

/** What a case's handler answers; anything left out takes the contract's default (a JSON echo). */
export interface CaseAnswer {
  status?: number
  headers?: readonly (readonly [string, string])[]
  body?: string
  /** Rejects instead of answering: the error goes to the framework's own error handling. */
  throws?: Error
  /** Waits this long (real time) before answering, so concurrent requests meet on one miss. */
  delayMs?: number
}

/** One case's app: options of the cached and mutation routes, and how the handler answers. */
export interface CaseSpec {
  options?: Record<string, unknown>
  mutationOptions?: Record<string, unknown>
  answer?: (request: ContractRequest, call: number) => CaseAnswer | undefined
}

/** A case's running app: its client, the manual clock of its stack, and the handler calls per path. */
export interface CaseContext extends OpenApp {
  readonly clock: AdvanceableClock
  readonly cache: CacheStack
  /** Handler calls so far for a path (query string excluded). */
  calls(path: string): number
  /** Requests the client sent so far. */
  requests(): number
}

/** Cuts a body in four pieces (fewer for tiny bodies), for the `manyWrites` ways. */
export function chunksOf(body: string): string[] {
  const size = Math.max(1, Math.ceil(body.length / 4))
  const chunks: string[] = []
  for (let i = 0; i < body.length; i += size) chunks.push(body.slice(i, i + size))
  return chunks.length ? chunks : ['']
}

/** `?name=value` from a request URL. */
export function queryParam(url: string, name: string): string | undefined {
  const q = url.indexOf('?')
  return q === -1 ? undefined : (new URLSearchParams(url.slice(q + 1)).get(name) ?? undefined)
}

function pathOf(url: string): string {
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

/**
 * Starts a case's app through the harness and opens a client of `kind`. The default answer echoes the
 * path, the call number and the request's credentials as JSON, so a leak shows in the body; `?write=` picks
 * how the harness writes it and `?size=` pads it to that many bytes.
 */
export async function startCase(
  harness: HttpAdapterHarness,
  kind: ClientKind,
  spec: CaseSpec,
): Promise<CaseContext> {
  const clock = createManualClock(Date.UTC(2026, 0, 1))
  const cache = new CacheStack([new MemoryLayer()], { clock })
  const calls = new Map<string, number>()
  let requests = 0
  const handle = async (request: ContractRequest): Promise<ContractAnswer> => {
    const path = pathOf(request.url)
    const call = (calls.get(path) ?? 0) + 1
    calls.set(path, call)
    const custom = spec.answer?.(request, call) ?? {}
    if (custom.delayMs) await new Promise((resolve) => setTimeout(resolve, custom.delayMs))
    if (custom.throws) throw custom.throws
    let body =
      custom.body ??
      JSON.stringify({
        path,
        call,
        cookie: request.header('cookie') ?? null,
        authorization: request.header('authorization') ?? null,
      })
    const size = Number(queryParam(request.url, 'size') ?? 0)
    if (size > body.length) body += ' '.repeat(size - body.length)
    return {
      status: custom.status ?? 200,
      headers: custom.headers ?? [['content-type', 'application/json; charset=utf-8']],
      body,
      write: queryParam(request.url, 'write') ?? (harness.oneCall[0] as string),
      chunks: chunksOf(body),
    }
  }
  const open = await openApp(
    harness,
    {
      cache,
      options: { cacheStatusHeader: true, ...spec.options },
      mutationOptions: { invalidates: ['posts'], ...spec.mutationOptions },
      handle,
      authorize: (req: unknown) => harness.header(req, 'authorization') === 'Bearer stats-token',
    },
    kind,
  )
  const client = open.client
  return {
    ...open,
    client: {
      ...client,
      request: (method, path, headers) => {
        requests++
        return client.request(method, path, headers)
      },
    },
    clock,
    cache,
    calls: (path) => calls.get(path) ?? 0,
    requests: () => requests,
  }
}

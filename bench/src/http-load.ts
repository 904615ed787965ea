// A small loopback HTTP load generator for the HTTP scenarios. It runs in a worker thread so that the
// client's own parsing and bookkeeping do not share the measured server's event loop (a same-thread
// client roughly halves what a server appears to manage). keep-alive sockets, a fixed number of
// requests in flight, and a bound on both the request count and the time.
import { Agent, request } from 'node:http'
import { parentPort, Worker, workerData } from 'node:worker_threads'

/** One measurement: `concurrency` requests in flight against `http://127.0.0.1:port/path`. */
export interface LoadJob {
  port: number
  path: string
  concurrency: number
  /** Untimed requests first, so sockets are open and the server's code is optimised. */
  warmupMs: number
  /** Timing stops after this long... */
  durationMs: number
  /** ...or after this many requests, whichever comes first. */
  maxRequests: number
  headers?: Record<string, string>
}

export interface LoadResult {
  requests: number
  /** Wall time of the timed phase divided by the requests: 1 / throughput. */
  nsPerRequest: number
  p50Ms: number
  p99Ms: number
  /** Answers other than 200, and socket errors. */
  errors: number
  firstError?: string | undefined
}

const WORKER_ROLE = 'cachestack-bench-http-load'

interface Reply {
  status: number
  error?: string
}

function fetchOnce(agent: Agent, job: LoadJob): Promise<Reply> {
  return new Promise((resolve) => {
    const req = request(
      { agent, host: '127.0.0.1', port: job.port, path: job.path, headers: job.headers },
      (res) => {
        res.on('data', () => {})
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }))
        res.on('error', (error) => resolve({ status: 0, error: error.message }))
      },
    )
    req.on('error', (error) => resolve({ status: 0, error: error.message }))
    req.end()
  })
}

async function runJob(job: LoadJob): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency })
  const latencies = new Float64Array(job.maxRequests)
  let timing = false
  let started = 0
  let count = 0
  let errors = 0
  let firstError: string | undefined
  let deadline = performance.now() + job.warmupMs
  const loop = async () => {
    for (;;) {
      if (performance.now() >= deadline || (timing && started >= job.maxRequests)) return
      if (timing) started++
      const t0 = performance.now()
      const reply = await fetchOnce(agent, job)
      if (!timing) continue
      latencies[count++] = performance.now() - t0
      if (reply.status !== 200) {
        errors++
        firstError ??= reply.error ?? `status ${reply.status}`
      }
    }
  }
  const phase = () => Promise.all(Array.from({ length: job.concurrency }, loop))
  await phase()
  timing = true
  const t0 = performance.now()
  deadline = t0 + job.durationMs
  await phase()
  const elapsedMs = performance.now() - t0
  agent.destroy()
  const sorted = latencies.subarray(0, count).sort()
  const at = (q: number) => sorted[Math.min(count - 1, Math.floor(q * count))] ?? Number.NaN
  return {
    requests: count,
    nsPerRequest: count > 0 ? (elapsedMs * 1e6) / count : Number.NaN,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    errors,
    firstError,
  }
}

if (parentPort && workerData === WORKER_ROLE) {
  const port = parentPort
  port.on('message', (job: LoadJob) => {
    runJob(job).then(
      (result) => port.postMessage({ result }),
      (error: unknown) => port.postMessage({ error: String(error) }),
    )
  })
}

/** The load generator's handle in the main thread: one job at a time. */
export class LoadClient {
  readonly #worker = new Worker(new URL(import.meta.url), { workerData: WORKER_ROLE })
  #queue: Promise<unknown> = Promise.resolve()

  constructor() {
    // An idle worker must not keep the bench alive.
    this.#worker.unref()
  }

  run(job: LoadJob): Promise<LoadResult> {
    const next = this.#queue.then(
      () =>
        new Promise<LoadResult>((resolve, reject) => {
          const worker = this.#worker
          const onError = (error: Error) => {
            worker.off('message', onMessage)
            reject(error)
          }
          const onMessage = (message: { result?: LoadResult; error?: string }) => {
            worker.off('error', onError)
            if (message.result) resolve(message.result)
            else reject(new Error(message.error ?? 'load worker failed'))
          }
          worker.once('message', onMessage)
          worker.once('error', onError)
          worker.postMessage(job)
        }),
    )
    this.#queue = next.catch(() => {})
    return next
  }

  async close(): Promise<void> {
    await this.#worker.terminate()
  }
}

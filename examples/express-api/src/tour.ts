// What `npm start` prints: the API asking itself a few questions, so the effect of the cache shows
// without a second terminal. Timings are wall-clock from this process, database latency 100–300 ms.
import type { PostsDb } from './posts-db.ts'

async function timed(
  url: string,
  init?: RequestInit,
): Promise<{ ms: string; cache: string; status: number }> {
  const started = performance.now()
  const response = await fetch(url, init)
  await response.arrayBuffer()
  return {
    ms: `${(performance.now() - started).toFixed(1)} ms`.padStart(9),
    cache: response.headers.get('x-cache') ?? '-',
    status: response.status,
  }
}

/** Runs the tour against the server at `base`, printing one line per step. */
export async function runTour(
  base: string,
  db: PostsDb,
  log: (line: string) => void = console.log,
): Promise<void> {
  log('\n1. A slow lookup becomes a fast hit')
  for (const label of ['first', 'second', 'third']) {
    const r = await timed(`${base}/posts/1`)
    log(`   ${label.padEnd(6)} GET /posts/1   ${r.ms}  X-Cache: ${r.cache}`)
  }

  log('\n2. Stampede protection: 500 concurrent requests for a cold route')
  const before = db.queries
  const started = performance.now()
  const burst = await Promise.all(Array.from({ length: 500 }, () => timed(`${base}/posts?page=2`)))
  const total = (performance.now() - started).toFixed(1)
  const misses = burst.filter((r) => r.cache === 'MISS').length
  log(`   500 answers in ${total} ms, ${misses} MISS, database queried ${db.queries - before} time(s)`)

  log('\n3. Tag invalidation: POST /posts purges every cached list page')
  const warm = await timed(`${base}/posts?page=1`)
  log(`   GET /posts?page=1  ${warm.ms}  X-Cache: ${warm.cache}`)
  const post = await timed(`${base}/posts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Hello from the tour' }),
  })
  log(`   POST /posts        ${post.ms}  status ${post.status} (invalidates tag "posts")`)
  const after = await timed(`${base}/posts?page=1`)
  log(`   GET /posts?page=1  ${after.ms}  X-Cache: ${after.cache}`)
  const again = await timed(`${base}/posts?page=1`)
  log(`   GET /posts?page=1  ${again.ms}  X-Cache: ${again.cache}\n`)
}

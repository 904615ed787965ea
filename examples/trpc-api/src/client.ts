// The typed client script `npm start` runs against the server: the effect of the cache, printed.
import { createTRPCClient, httpBatchLink } from '@trpc/client'
import type { PostsDb } from './posts-db.ts'
import type { AppRouter } from './router.ts'

/** A typed client for one user (or anonymous). */
export function createClient(url: string, user?: string) {
  return createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url, headers: () => (user ? { authorization: `Bearer ${user}` } : {}) })],
  })
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: string }> {
  const started = performance.now()
  const value = await run()
  return { value, ms: `${(performance.now() - started).toFixed(1)} ms`.padStart(9) }
}

/** Runs the tour against the server at `url`, printing one line per step. */
export async function runTour(url: string, db: PostsDb, log: (line: string) => void = console.log) {
  const anonymous = createClient(url)
  const ada = createClient(url, 'ada')
  const grace = createClient(url, 'grace')

  log('\n1. A slow query becomes a fast hit')
  for (const label of ['first', 'second', 'third']) {
    const r = await timed(() => anonymous.byId.query({ id: 1 }))
    log(`   ${label.padEnd(6)} byId({ id: 1 })  ${r.ms}  "${r.value.title}"`)
  }

  log('\n2. 200 concurrent identical calls (batched by httpBatchLink) run the resolver once')
  const before = db.queries
  const burst = await timed(() => Promise.all(Array.from({ length: 200 }, () => anonymous.list.query())))
  log(`   200 answers in ${burst.ms.trim()}, database queried ${db.queries - before} time(s)`)

  log("\n3. Private data: one entry per user; an anonymous caller never gets a user's entry")
  const [adaDrafts, graceDrafts, none] = await Promise.all([
    ada.myDrafts.query(),
    grace.myDrafts.query(),
    anonymous.myDrafts.query(),
  ])
  log(`   ada sees ${adaDrafts.map((p) => p.title).join(', ') || 'nothing'}`)
  log(`   grace sees ${graceDrafts.map((p) => p.title).join(', ') || 'nothing'}`)
  log(`   anonymous sees ${none.length} draft(s)`)

  log('\n4. A creation purges every cached list (tag "Post:list")')
  const listed = await anonymous.list.query()
  const created = await ada.create.mutate({ title: 'Hello from the tour' })
  const after = await timed(() => anonymous.list.query())
  log(
    `   ${listed.length} posts listed; ada creates #${created.id}; the list now has ${after.value.length} (${after.ms.trim()}, a miss)`,
  )
  return { listed: listed.length, after: after.value.length, adaDrafts, graceDrafts, anonymousDrafts: none }
}

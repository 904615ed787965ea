// What `npm start` prints: the API asking itself a few questions, so the effect of the cache shows
// without a second terminal. Timings are wall-clock from this process.
import type { AuthorsDb, PostsDb } from './posts-db.ts'

/** Sends one GraphQL request (fetch keeps the connection alive). */
export async function graphql(url: string, query: string, user?: string): Promise<any> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(user ? { authorization: `Bearer ${user}` } : {}) },
    body: JSON.stringify({ query }),
  })
  const body = (await res.json()) as { data?: any; errors?: { message: string }[] }
  if (body.errors) throw new Error(body.errors.map((e) => e.message).join('; '))
  return body.data
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: string }> {
  const started = performance.now()
  const value = await run()
  return { value, ms: `${(performance.now() - started).toFixed(1)} ms`.padStart(9) }
}

/** Runs the tour against `url`, printing one line per step. */
export async function runTour(
  url: string,
  posts: PostsDb,
  authors: AuthorsDb,
  log: (line: string) => void = console.log,
) {
  const list = '{ posts { id title author { name } } }'
  log('\n1. A slow list with a nested author becomes a fast hit')
  for (const label of ['first', 'second', 'third']) {
    const r = await timed(() => graphql(url, list))
    log(`   ${label.padEnd(6)} ${list}  ${r.ms}  (${r.value.posts.length} posts)`)
  }
  log(`   database: ${posts.queries} posts query, ${authors.queries} author queries (one per author, shared)`)

  log('\n2. 200 concurrent identical cold requests run each resolver once')
  const before = posts.queries
  const burst = await timed(() =>
    Promise.all(Array.from({ length: 200 }, () => graphql(url, '{ post(id: 2) { title } }'))),
  )
  log(`   200 answers in ${burst.ms.trim()}, database queried ${posts.queries - before} time(s)`)

  log("\n3. Private data: one entry per user; an anonymous caller never gets a user's entry")
  const drafts = '{ myDrafts { title author { name } } }'
  const [ada, grace, anonymous] = await Promise.all([
    graphql(url, drafts, 'ada'),
    graphql(url, drafts, 'grace'),
    graphql(url, drafts),
  ])
  log(`   ada sees ${ada.myDrafts.map((p: { title: string }) => p.title).join(', ') || 'nothing'}`)
  log(`   grace sees ${grace.myDrafts.map((p: { title: string }) => p.title).join(', ') || 'nothing'}`)
  log(`   anonymous sees ${anonymous.myDrafts.length} draft(s)`)

  log('\n4. Creating a Post purges every cached list (type tag "Post:list")')
  const listed = (await graphql(url, list)).posts.length
  const created = await graphql(url, 'mutation { createPost(title: "Hello from the tour") { id } }', 'ada')
  const after = await timed(() => graphql(url, list))
  log(
    `   ${listed} posts listed; ada creates #${created.createPost.id}; the list now has ${after.value.posts.length} (${after.ms.trim()}, a miss)\n`,
  )
  return {
    listed,
    after: after.value.posts.length,
    ada: ada.myDrafts,
    grace: grace.myDrafts,
    anonymous: anonymous.myDrafts,
  }
}

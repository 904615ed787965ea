import type { AddressInfo } from 'node:net'
import { CacheStack, MemoryLayer } from '@cachestack/core'
import { afterAll, expect, it } from 'vitest'
import { AuthorsDb, PostsDb } from './posts-db.ts'
import { createServer } from './server.ts'
import { runTour } from './tour.ts'

const cache = new CacheStack([new MemoryLayer()])
const posts = new PostsDb(() => 5)
const authors = new AuthorsDb(() => 5)
const server = await createServer(cache, posts, authors)
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
afterAll(async () => {
  server.close()
  await cache.disconnect()
})

it('runs the tour: hits, one query for 200 cold requests, drafts per user, a creation purging the list', async () => {
  const lines: string[] = []
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`
  const result = await runTour(url, posts, authors, (line) => lines.push(line))
  const text = lines.join('\n')
  expect(text).toContain('database: 1 posts query, 2 author queries')
  expect(text).toContain('database queried 1 time(s)')
  expect(result.ada).toEqual([{ title: 'Post 4', author: { name: 'Ada Lovelace' } }])
  expect(result.grace.map((p: { title: string }) => p.title)).toEqual(['Post 8', 'Post 12'])
  expect(result.anonymous).toEqual([])
  expect(result.after).toBe(result.listed + 1)
})

import type { AddressInfo } from 'node:net'
import { CacheStack, MemoryLayer } from '@cachestack/core'
import { afterAll, expect, it } from 'vitest'
import { createClient, runTour } from './client.ts'
import { PostsDb } from './posts-db.ts'
import { createServer } from './server.ts'

const cache = new CacheStack([new MemoryLayer()])
const db = new PostsDb(() => 5)
const server = createServer(cache, db)
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
afterAll(async () => {
  server.close()
  await cache.disconnect()
})

it('runs the tour: one database query for the burst, private drafts per user, a creation purging the list', async () => {
  const lines: string[] = []
  const result = await runTour(url, db, (line) => lines.push(line))
  expect(lines.join('\n')).toContain('database queried 1 time(s)')
  expect(result.adaDrafts.every((post) => post.author === 'ada')).toBe(true)
  expect(result.graceDrafts.every((post) => post.author === 'grace')).toBe(true)
  expect(result.adaDrafts.length).toBeGreaterThan(0)
  expect(result.anonymousDrafts).toEqual([])
  expect(result.after).toBe(result.listed + 1)
})

it('answers a public GET with a shareable Cache-Control and a private one with no-store', async () => {
  const input = encodeURIComponent(JSON.stringify({ id: 2 }))
  const pub = await fetch(`${url}/byId?input=${input}`)
  expect(pub.headers.get('cache-control')).toBe('public, max-age=60')
  const priv = await fetch(`${url}/myDrafts`, { headers: { authorization: 'Bearer ada' } })
  expect(priv.headers.get('cache-control')).toBe('private, no-store')
  await expect(createClient(url).create.mutate({ title: 'x' })).rejects.toThrow('sign in to post')
})

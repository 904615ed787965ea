import { CacheStack, MemoryLayer } from '@cachestack/core'
import { afterAll, expect, it } from 'vitest'
import { createApp } from './app.ts'

const { app, db } = await createApp(new CacheStack([new MemoryLayer()]), 'token')
const base = await app.listen({ port: 0, host: '127.0.0.1' })
afterAll(() => app.close())

it('answers a miss, then a hit without touching the database, and purges on a write', async () => {
  const miss = await fetch(`${base}/posts?page=1`)
  expect([miss.status, miss.headers.get('x-cache')]).toEqual([200, 'MISS'])
  const hit = await fetch(`${base}/posts?utm_source=mail&page=1`)
  expect([hit.status, hit.headers.get('x-cache')]).toEqual([200, 'HIT'])
  expect(await hit.json()).toHaveLength(10)
  expect(db.queries).toBe(1)
  const created = await fetch(`${base}/posts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Fresh' }),
  })
  expect(created.status).toBe(201)
  expect((await fetch(`${base}/posts?page=1`)).headers.get('x-cache')).toBe('MISS')
  expect((await fetch(`${base}/cache/stats`)).status).toBe(403)
  expect((await fetch(`${base}/cache/stats`, { headers: { authorization: 'Bearer token' } })).status).toBe(
    200,
  )
})

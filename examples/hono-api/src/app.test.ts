import type { AddressInfo } from 'node:net'
import { CacheStack, MemoryLayer } from '@cachestack/core'
import { serve } from '@hono/node-server'
import { afterAll, expect, it } from 'vitest'
import { createApp } from './app.ts'

const { app, db } = createApp(new CacheStack([new MemoryLayer()]), 'token')
const server = serve({ fetch: app.fetch, port: 0 })
await new Promise((resolve) => server.once('listening', resolve))
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
afterAll(() => void server.close())

it('answers a miss, then a hit without touching the database, and purges on a write', async () => {
  const miss = await fetch(`${base}/posts?page=1`)
  expect([miss.status, miss.headers.get('x-cache')]).toEqual([200, 'MISS'])
  const hit = await fetch(`${base}/posts?page=1&utm_medium=feed`)
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

it('behind the proxy: a forged X-Forwarded-Host never reaches another visitor, ordinary traffic hits', async () => {
  // What the proxy in front adds: the public host and scheme, and the client's address (one per visitor).
  const proxied = async (client: string, extra: Record<string, string> = {}) => {
    const res = await fetch(`${base}/posts?page=3`, {
      headers: {
        'x-forwarded-for': client,
        'x-forwarded-host': 'api.example.com',
        'x-forwarded-proto': 'https',
        ...extra,
      },
    })
    await res.arrayBuffer()
    return [res.headers.get('x-cache'), res.headers.get('link')]
  }
  // The attacker comes first, while nothing is stored yet, through a proxy that passes its header on.
  const attack = await proxied('203.0.113.66', { 'x-forwarded-host': 'evil.example' })
  expect(attack).toEqual(['MISS', '<https://evil.example/posts?page=4>; rel="next"'])
  const genuine = '<https://api.example.com/posts?page=4>; rel="next"'
  expect(await proxied('198.51.100.1')).toEqual(['MISS', genuine])
  for (const client of ['198.51.100.2', '198.51.100.3', '198.51.100.4']) {
    expect(await proxied(client)).toEqual(['HIT', genuine])
  }
})

import type { AddressInfo } from 'node:net'
import { CacheStack, MemoryLayer } from '@cachestack/core'
import { Agent, fetch } from 'undici'
import { afterAll, expect, it } from 'vitest'
import { createApp } from './app.ts'
import { mountMetrics } from './metrics.ts'

const cache = new CacheStack([new MemoryLayer()], { name: 'posts' })
const { app } = createApp(cache)
const stop = mountMetrics(app, cache)
const server = app.listen(0)
// One kept-alive connection for every request, as a scraper and a load balancer's probes use.
const dispatcher = new Agent({ connections: 1 })
const get = (path: string) =>
  fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`, { dispatcher })
afterAll(async () => {
  stop()
  server.close()
  await dispatcher.close()
  await cache.disconnect()
})

it('serves the stack in Prometheus text format at /metrics, moving with traffic, beside the health probes', async () => {
  await (await get('/posts?page=1')).arrayBuffer()
  await (await get('/posts?page=1')).arrayBuffer()
  const scrape = await get('/metrics')
  expect(scrape.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
  const text = await scrape.text()
  expect(text).toMatch(/^cachestack_hits_total\{cache="posts",layer="memory"\} [1-9]/m)
  expect(text).toMatch(/^cachestack_misses_total\{cache="posts"\} [1-9]/m)
  expect(text).toContain('process_cpu_user_seconds_total') // Node's own metrics, same registry
  const ready = await get('/healthz/ready')
  expect(ready.status).toBe(200)
  expect(await ready.json()).toMatchObject({ status: 'ok', layers: [{ name: 'memory', healthy: true }] })
  expect((await get('/healthz/live')).status).toBe(200)
})

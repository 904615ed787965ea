import 'reflect-metadata'
import { Agent, request } from 'node:http'
import { CacheStack, MemoryLayer } from '@cachestack/core'
import type { INestApplication } from '@nestjs/common'
import { ExpressAdapter } from '@nestjs/platform-express'
import { FastifyAdapter } from '@nestjs/platform-fastify'
import { Test } from '@nestjs/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { AppModule } from './app-module.ts'
import { PostsDb } from './posts-db.ts'

const apps: INestApplication[] = []
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close()
})

async function start(platform: 'express' | 'fastify') {
  const cache = new CacheStack([new MemoryLayer()])
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule.with({ cache, statsToken: 'secret', latencyMs: 1 })],
  }).compile()
  const app = moduleRef.createNestApplication(
    platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(),
    { logger: false },
  )
  await app.listen(0, '127.0.0.1')
  apps.push(app)
  const port = (app.getHttpServer().address() as { port: number }).port
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const send = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
    new Promise<{ status: number; headers: Record<string, unknown>; text: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (text += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }))
      })
      req.on('error', reject)
      req.end(body)
    })
  return { app, send, db: app.get(PostsDb), close: () => agent.destroy() }
}

describe.each(['express', 'fastify'] as const)('examples/nestjs-api on %s', (platform) => {
  it('caches pages, purges them on a new post, and guards the stats route', async () => {
    const { send, db, close } = await start(platform)
    try {
      const miss = await send('GET', '/posts?page=1')
      const hit = await send('GET', '/posts?page=1')
      expect([miss.headers['x-cache'], hit.headers['x-cache']]).toEqual(['MISS', 'HIT'])
      expect(hit.text).toBe(miss.text)
      expect(db.queries).toBe(1)
      const created = await send('POST', '/posts', { 'content-type': 'application/json' }, '{"title":"New"}')
      expect(created.status).toBe(201)
      // The 25 seeded posts fill pages 1-3; the new one is the 26th, on page 3.
      const page3 = await send('GET', '/posts?page=3')
      expect(JSON.parse(page3.text).at(-1)).toEqual({ id: 26, title: 'New' })
      expect((await send('GET', '/posts?page=1')).headers['x-cache']).toBe('MISS')
      expect((await send('GET', '/posts/99')).status).toBe(404)
      expect((await send('GET', '/cache/stats')).status).toBe(403)
      const stats = await send('GET', '/cache/stats', { authorization: 'Bearer secret' })
      expect(stats.status).toBe(200)
      expect(stats.headers['cache-control']).toBe('no-store')
      expect(JSON.parse(stats.text).hits).toBeGreaterThan(0)
    } finally {
      close()
    }
  })
})

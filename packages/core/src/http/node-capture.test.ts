import { Agent, createServer, request, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { discardNextAnswer, writeServerResponse } from './node-capture.ts'

type Route = (res: ServerResponse) => void
const routes = new Map<string, Route>()
const server = createServer((req, res) => routes.get(req.url ?? '')?.(res))
const agent = new Agent({ keepAlive: true, maxSockets: 1 })
let port = 0

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
})
afterAll(async () => {
  agent.destroy()
  await new Promise((resolve) => server.close(resolve))
})

function get(path: string): Promise<{ status: number; raw: string[]; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, raw: res.rawHeaders, body }))
    })
      .on('error', reject)
      .end()
  })
}

describe('writeServerResponse', () => {
  it('replaces headers already set and sends a repeated header once per value', async () => {
    routes.set('/write', (res) => {
      res.setHeader('x-before', 'old')
      res.setHeader('x-kept', 'kept')
      writeServerResponse(res, {
        status: 203,
        headers: [
          ['x-before', 'new'],
          ['link', '</a>; rel=preload'],
          ['link', '</b>; rel=preload'],
        ],
        body: Buffer.from('hello'),
      })
    })
    for (let i = 0; i < 2; i++) {
      const answer = await get('/write')
      expect(answer.status).toBe(203)
      expect(answer.body).toBe('hello')
      const pairs = []
      for (let j = 0; j < answer.raw.length; j += 2)
        pairs.push([answer.raw[j]?.toLowerCase(), answer.raw[j + 1]])
      expect(pairs.filter(([name]) => name === 'link')).toEqual([
        ['link', '</a>; rel=preload'],
        ['link', '</b>; rel=preload'],
      ])
      expect(pairs.filter(([name]) => name?.startsWith('x-'))).toEqual([
        ['x-before', 'new'],
        ['x-kept', 'kept'],
      ])
    }
  })
})

describe('discardNextAnswer', () => {
  it("drops the framework's answer (status, headers, body), restores the methods and hands back after end", async () => {
    const seen: string[] = []
    routes.set('/discard', (res) => {
      const own = Object.keys(res)
      discardNextAnswer(res, () => {
        seen.push(`ended headersSent=${res.headersSent}`)
        expect(
          Object.keys(res)
            .filter((k) => !own.includes(k))
            .every((k) => typeof res[k as keyof ServerResponse] === 'function'),
        ).toBe(true)
        expect(res.end).toBe(Object.getPrototypeOf(Object.getPrototypeOf(res)).end)
        writeServerResponse(res, {
          status: 200,
          headers: [['content-type', 'text/plain']],
          body: Buffer.from('stored'),
        })
      })
      // What a framework writes after the interceptor: all of it is dropped.
      res.writeHead(500, { 'x-framework': 'yes' })
      res.write('framework body', () => seen.push('write callback'))
      res.end(() => seen.push('end callback'))
    })
    for (let i = 0; i < 3; i++) {
      const answer = await get('/discard')
      expect(answer.status).toBe(200)
      expect(answer.body).toBe('stored')
      expect(answer.raw.map((h) => h.toLowerCase())).not.toContain('x-framework')
    }
    expect(seen.slice(0, 3)).toEqual(['ended headersSent=false', 'write callback', 'end callback'])
  })
})

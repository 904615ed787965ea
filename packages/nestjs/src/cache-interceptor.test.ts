import { afterEach, describe, expect, it } from 'vitest'
import { CacheStackModule } from './cache-stack-module.ts'
import {
  ItemsController,
  makeStack,
  PLATFORMS,
  type Platform,
  type RunningApp,
  startApp,
} from './test-app.ts'

const apps: RunningApp[] = []
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close()
})

async function start(platform: Platform) {
  const { cache, clock } = makeStack()
  const running = await startApp(
    platform,
    { imports: [CacheStackModule.forRoot({ cache })], controllers: [ItemsController] },
    { cache, clock },
  )
  apps.push(running)
  return running
}

describe.each(PLATFORMS)('CacheInterceptor on %s', (platform) => {
  it('stores a miss and replays it exactly with X-Cache, Age and a strong ETag; 304 on If-None-Match', async () => {
    const { client, calls, clock } = await start(platform)
    const miss = await client.get('/items')
    expect(miss.status).toBe(200)
    expect(miss.headers['x-cache']).toBe('MISS')
    expect(JSON.parse(miss.text)).toEqual({ call: 1, user: null })
    clock.time += 3_000
    const hit = await client.get('/items')
    expect(hit.status).toBe(200)
    expect(hit.headers['x-cache']).toBe('HIT')
    expect(hit.headers.age).toBe('3')
    expect(hit.body.equals(miss.body)).toBe(true)
    expect(hit.headers['content-type']).toBe(miss.headers['content-type'])
    expect(hit.headers.etag).toMatch(/^"[\w-]+"$/)
    const notModified = await client.get('/items', { 'if-none-match': hit.headers.etag as string })
    expect(notModified.status).toBe(304)
    expect(notModified.body.length).toBe(0)
    expect(calls.of('list')).toBe(1)
    expect(client.sockets).toBe(1)
  })

  it('replays status and headers a @Res({ passthrough: true }) handler set, and @Header() ones', async () => {
    const { client, calls } = await start(platform)
    const miss = await client.get('/items/passthrough')
    expect(miss.status).toBe(203)
    expect(miss.headers['x-custom']).toBe('c1')
    expect(miss.headers['x-static']).toBe('yes')
    expect(miss.text).toBe('plain 1')
    // 203 is not in the default statuses: not stored, each request runs the handler
    expect((await client.get('/items/passthrough')).text).toBe('plain 2')
    expect(calls.of('passthrough')).toBe(2)
  })

  it('caches a handler that writes through @Res() itself', async () => {
    const { client, calls } = await start(platform)
    const miss = await client.get('/items/self')
    const hit = await client.get('/items/self')
    expect(miss.headers['x-cache']).toBe('MISS')
    expect(hit.headers['x-cache']).toBe('HIT')
    expect(hit.headers['x-self']).toBe('yes')
    expect(JSON.parse(hit.text)).toEqual({ call: 1, self: true })
    expect(calls.of('self')).toBe(1)
  })

  it('stores a StreamableFile under the cap byte for byte', async () => {
    const { client, calls } = await start(platform)
    const miss = await client.get('/items/file')
    const hit = await client.get('/items/file')
    expect(miss.text).toBe('file 1 bytes')
    expect(hit.headers['x-cache']).toBe('HIT')
    expect(hit.body.equals(miss.body)).toBe(true)
    expect(hit.headers['content-type']).toBe('application/octet-stream')
    expect(calls.of('file')).toBe(1)
  })

  it.each([
    ['cookie', 'set-cookie'],
    ['no-store', 'no-store'],
    ['private-header', 'private'],
    ['created', 'status'],
    ['missing', 'status'],
    ['big', 'too-large'],
    ['events', 'event-stream'],
  ])('does not store /items/%s (%s) and runs the handler each time', async (route, _reason) => {
    const { client, calls } = await start(platform)
    const first = await client.get(`/items/${route}`)
    const second = await client.get(`/items/${route}`)
    expect(first.headers['x-cache']).toBe('MISS')
    expect(second.headers['x-cache']).toBe('MISS')
    expect(second.body.length).toBe(first.body.length)
    expect(calls.of(route)).toBe(2)
  })

  it('bypasses requests carrying Authorization or Cookie in public scope: no cross-user leak', async () => {
    const { client, calls } = await start(platform)
    const alice = await client.get('/items', { authorization: 'Bearer alice' })
    expect(alice.headers['x-cache']).toBe('BYPASS')
    expect(JSON.parse(alice.text).user).toBe('Bearer alice')
    const anonymous = await client.get('/items')
    expect(JSON.parse(anonymous.text).user).toBe(null)
    const bob = await client.get('/items', { cookie: 'sid=bob' })
    expect(bob.headers['x-cache']).toBe('BYPASS')
    expect(JSON.parse(bob.text).user).toBe('sid=bob')
    const anonymousAgain = await client.get('/items')
    expect(anonymousAgain.headers['x-cache']).toBe('HIT')
    expect(JSON.parse(anonymousAgain.text).user).toBe(null)
    expect(calls.of('list')).toBe(3)
  })

  it("caches a private route per session and never serves one user another user's entry", async () => {
    const { client, calls } = await start(platform)
    const alice1 = await client.get('/items/mine', { authorization: 'Bearer alice' })
    const bob1 = await client.get('/items/mine', { authorization: 'Bearer bob' })
    const alice2 = await client.get('/items/mine', { authorization: 'Bearer alice' })
    const bob2 = await client.get('/items/mine', { authorization: 'Bearer bob' })
    expect(JSON.parse(alice2.text).user).toBe('Bearer alice')
    expect(JSON.parse(bob2.text).user).toBe('Bearer bob')
    expect(alice2.headers['x-cache']).toBe('HIT')
    expect(bob2.headers['x-cache']).toBe('HIT')
    expect(alice1.text).toBe(alice2.text)
    expect(bob1.text).toBe(bob2.text)
    const nobody = await client.get('/items/mine')
    expect(nobody.headers['x-cache']).toBe('BYPASS')
    expect(nobody.text).not.toContain('alice')
    expect(calls.of('mine')).toBe(3)
  })

  it('answers HEAD from the GET entry', async () => {
    const { client, calls } = await start(platform)
    const get = await client.get('/items')
    const head = await client.send('HEAD', '/items')
    expect(head.status).toBe(200)
    expect(head.headers['x-cache']).toBe('HIT')
    expect(head.body.length).toBe(0)
    expect(head.headers['content-length']).toBe(String(get.body.length))
    expect(calls.of('list')).toBe(1)
  })

  it('@NoCache leaves a route out; @CacheKey shares one entry whatever the query', async () => {
    const { client, calls } = await start(platform)
    await client.get('/items/no-cache')
    const again = await client.get('/items/no-cache')
    expect(again.headers['x-cache']).toBeUndefined()
    expect(calls.of('no-cache')).toBe(2)
    await client.get('/items/fixed-key?a=1')
    const other = await client.get('/items/fixed-key?b=2')
    expect(other.headers['x-cache']).toBe('HIT')
    expect(calls.of('fixed-key')).toBe(1)
  })

  it('@CacheTTL expires on the injected clock', async () => {
    const { client, calls, clock } = await start(platform)
    await client.get('/items/ttl')
    clock.time += 999
    expect((await client.get('/items/ttl')).headers['x-cache']).toBe('HIT')
    clock.time += 2
    expect((await client.get('/items/ttl')).headers['x-cache']).toBe('MISS')
    expect(calls.of('ttl')).toBe(2)
  })

  it('@InvalidateTags purges tagged entries before the mutation answer reaches the client', async () => {
    const { client, calls } = await start(platform)
    await client.get('/items')
    expect((await client.get('/items')).headers['x-cache']).toBe('HIT')
    const created = await client.send('POST', '/items')
    expect(created.status).toBe(201)
    const after = await client.get('/items')
    expect(after.headers['x-cache']).toBe('MISS')
    expect(JSON.parse(after.text).call).toBe(2)
    const failed = await client.send('POST', '/items/fail')
    expect(failed.status).toBe(404)
    expect((await client.get('/items')).headers['x-cache']).toBe('HIT')
    expect(calls.of('list')).toBe(2)
  })

  it('keeps different paths and queries apart', async () => {
    const { client } = await start(platform)
    const one = await client.get('/items/1?x=1&y=2')
    const two = await client.get('/items/2?x=1&y=2')
    const sorted = await client.get('/items/1?y=2&x=1')
    expect(JSON.parse(one.text).id).toBe('1')
    expect(JSON.parse(two.text).id).toBe('2')
    expect(sorted.headers['x-cache']).toBe('HIT')
    expect(sorted.text).toBe(one.text)
  })
})

import { RedisLayer } from '@cachestack/core'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { testClusterNodes, testRedisUrl, uniquePrefix } from '../../../tools/test-redis.ts'
import { type App, type CliRun, cli, cliOnTerminal, startApp } from './test-fixtures/harness.ts'

// Each CLI run is a Node process (~0.5 s from source, more on a loaded CI machine); a test runs several.
const CLI_TEST_TIMEOUT = 60_000

// One app process (memory L1 + Redis L2 + bus) and the CLI as a child process, on a single Redis and on
// a Cluster. Each change the CLI makes must reach the app's L1 over the bus: its next read is a miss.
for (const kind of ['single server', 'cluster'] as const) {
  describe(`cachestack CLI against a running app (${kind})`, { timeout: CLI_TEST_TIMEOUT }, () => {
    const prefix = uniquePrefix('cli')
    const channel = `${prefix}bus`
    // The CLI finds a Cluster by itself from any one node's URL.
    const redis =
      kind === 'cluster'
        ? `redis://${process.env.CACHESTACK_TEST_CLUSTER_NODES!.split(',')[1]}`
        : testRedisUrl()
    let app: App

    const run = (...args: string[]) =>
      cli(['--prefix', prefix, ...args, '--redis', redis, '--channel', channel])
    const json = (result: CliRun) => {
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
      return JSON.parse(result.stdout) as Record<string, unknown>
    }
    const read = (key: string, namespace?: string) =>
      app.call<{ value: unknown; source: string }>({ cmd: 'read', key, namespace })
    /** Runs the CLI and waits until the app has received one more bus message. */
    async function change(...args: string[]): Promise<Record<string, unknown>> {
      const before = await app.call<number>({ cmd: 'received' })
      const out = json(await run(...args, '--yes', '--json'))
      await vi.waitFor(async () => expect(await app.call<number>({ cmd: 'received' })).toBe(before + 1), {
        timeout: 5_000,
        interval: 10,
      })
      return out
    }

    beforeAll(async () => {
      app = await startApp(
        kind === 'cluster'
          ? {
              redis: testClusterNodes()
                .map((n) => `${n.host}:${n.port}`)
                .join(','),
              cluster: true,
              prefix,
              channel,
            }
          : { redis, prefix, channel },
      )
      await app.call({ cmd: 'set', key: 'user:1', value: { name: 'Ada' }, tags: ['users'] })
      await app.call({ cmd: 'set', key: 'user:2', value: { name: 'Bob' } })
      await app.call({ cmd: 'set', key: 'post:1', value: 'hello', tags: ['posts'] })
      await app.call({ cmd: 'set', key: 's1', value: 'session', namespace: 'sessions' })
      await app.call({ cmd: 'set', key: 'keep', value: 'kept' })
    })
    afterAll(async () => {
      await app.stop()
    })

    it('reads without changing anything: stats, keys, inspect, get', async () => {
      const stats = json(await run('stats', '--json'))
      expect(stats).toMatchObject({
        prefix,
        entries: 5,
        namespaces: { user: 2, post: 1, sessions: 1, '': 1 },
        generation: null,
        bus: { channel, listeners: 1 },
        redis: { cluster: kind === 'cluster' },
      })
      expect((stats.redis as { nodes: unknown[] }).nodes).toHaveLength(kind === 'cluster' ? 3 : 1)

      expect(json(await run('keys', '--prefix', 'user:', '--json'))).toEqual({
        namespace: null,
        prefix: 'user:',
        count: 2,
        keys: ['user:1', 'user:2'],
      })
      expect(json(await run('keys', '--namespace', 'sessions', '--json'))).toMatchObject({ keys: ['s1'] })
      expect((await run('keys', '--prefix', 'user:')).stdout).toBe('user:1\nuser:2\n')

      expect(json(await run('get', 'user:1', '--json'))).toEqual({
        key: 'user:1',
        found: true,
        value: { name: 'Ada' },
      })
      expect(json(await run('get', 'nope', '--json'))).toEqual({ key: 'nope', found: false })
      expect(json(await run('inspect', 'user:1', '--json'))).toMatchObject({
        key: 'user:1',
        found: true,
        foundInLayers: ['redis'],
        tags: ['users'],
        isStale: false,
      })
      // Nothing above touched the app's L1.
      expect(await read('user:1')).toEqual({ value: { name: 'Ada' }, source: 'memory' })
    })

    it('delete KEY: the app drops its L1 copy at once; its next read runs the factory', async () => {
      expect(await read('user:2')).toMatchObject({ source: 'memory' })
      expect(await change('delete', 'user:2')).toEqual({
        key: 'user:2',
        namespace: null,
        deleted: true,
        published: 1,
        listeners: 1,
      })
      expect(await read('user:2')).toEqual({ value: 'fresh:user:2', source: 'factory' })
      expect(await read('keep')).toMatchObject({ source: 'memory' })
    })

    it('invalidate --tag: the tagged entry misses in the app, untagged ones stay', async () => {
      expect(await read('post:1')).toMatchObject({ source: 'memory' })
      expect(await change('invalidate', '--tag', 'posts')).toMatchObject({ tags: ['posts'], published: 1 })
      expect(await read('post:1')).toEqual({ value: 'fresh:post:1', source: 'factory' })
      expect(await read('keep')).toMatchObject({ source: 'memory' })
    })

    it('clear --namespace: the namespace misses in the app, the rest stays', async () => {
      expect(await read('s1', 'sessions')).toMatchObject({ source: 'memory' })
      expect(await change('clear', '--namespace', 'sessions')).toMatchObject({
        cleared: true,
        namespace: 'sessions',
      })
      expect(await read('s1', 'sessions')).toEqual({ value: 'fresh:s1', source: 'factory' })
      expect(await read('keep')).toMatchObject({ source: 'memory' })
    })

    it('invalidate --prefix and --pattern, and expire --tag, reach the app too', async () => {
      await app.call({ cmd: 'set', key: 'cart:1', value: 1 })
      await app.call({ cmd: 'set', key: 'order:7', value: 7 })
      await change('invalidate', '--prefix', 'cart:')
      expect(await read('cart:1')).toMatchObject({ source: 'factory' })
      await change('invalidate', '--pattern', 'ord?r:*')
      expect(await read('order:7')).toMatchObject({ source: 'factory' })
      await app.call({ cmd: 'set', key: 'user:3', value: 3, tags: ['users'] })
      await change('expire', '--tag', 'users')
      // Soft: no grace window here, so the stale entry is not served; the factory runs.
      expect(await read('user:3')).toMatchObject({ source: 'factory' })
    })

    it('refuses a destructive command without --yes when stdin is not a terminal, and changes nothing', async () => {
      const refused = await run('clear')
      expect(refused).toEqual({
        code: 1,
        stdout: '',
        stderr: `cachestack: refusing to clear every key under "${prefix}" without confirmation: stdin is not a terminal (pass --yes)\n`,
      })
      expect(await read('keep')).toMatchObject({ source: 'memory' })
      expect(json(await run('get', 'keep', '--json'))).toMatchObject({ found: true })
    })

    it('prune removes nothing live; clear empties the stack and every L1', async () => {
      expect(json(await run('prune', '--yes', '--json'))).toMatchObject({ removed: 0, published: 0 })
      await change('clear')
      expect(await read('keep')).toMatchObject({ source: 'factory' })
      expect(json(await run('keys', '--json'))).toMatchObject({ keys: ['keep'] })
    })
  })
}

describe('cachestack CLI generations', { timeout: CLI_TEST_TIMEOUT }, () => {
  it('bump-generation: the app adopts it from the bus and misses every older key', async () => {
    const prefix = uniquePrefix('cli-gen')
    const channel = `${prefix}bus`
    const redis = testRedisUrl()
    const app = await startApp({ redis, prefix, channel, generation: 1 })
    try {
      await app.call({ cmd: 'set', key: 'a', value: 1 })
      const args = ['--prefix', prefix, '--redis', redis, '--channel', channel]
      // Never bumped: Redis holds no generation, so the CLI needs the apps' starting one.
      const off = await cli([...args, 'bump-generation', '--yes'])
      expect(off.code).toBe(1)
      expect(off.stderr).toMatch(/^cachestack: generations are off for this stack.*--generation N/)
      const bumped = await cli([...args, '--generation', '1', 'bump-generation', '--yes', '--json'])
      expect(JSON.parse(bumped.stdout)).toMatchObject({ generation: 2, published: 1, listeners: 1 })
      await vi.waitFor(
        async () => expect(await app.call({ cmd: 'read', key: 'a' })).toMatchObject({ source: 'factory' }),
        { timeout: 5_000, interval: 10 },
      )
      // Now stored in Redis: the CLI finds it without --generation, and prune removes the old key.
      const pruned = JSON.parse((await cli([...args, 'prune', '--yes', '--json'])).stdout)
      expect(pruned).toMatchObject({ oldGenerations: 1, removed: 1 })
      expect(JSON.parse((await cli([...args, 'keys', '--json'])).stdout)).toMatchObject({ keys: ['a'] })
    } finally {
      await app.stop()
    }
  })
})

describe('cachestack CLI on entries it cannot decode', { timeout: CLI_TEST_TIMEOUT }, () => {
  it("get and prune leave an app's custom-serialized entry in Redis (a miss to the CLI, not garbage)", async () => {
    const prefix = uniquePrefix('cli-custom')
    const client = new Redis(testRedisUrl())
    try {
      const serializer = {
        serialize: (entry: unknown) => Buffer.from(JSON.stringify(entry)),
        deserialize: (bytes: Buffer) => JSON.parse(bytes.toString()),
      }
      const layer = new RedisLayer({ client, prefix, serializer })
      await layer.set(
        'k',
        { value: 1, createdAt: 0, freshUntil: 8e15, swrUntil: 8e15, graceUntil: 8e15 },
        undefined,
      )
      const args = ['--prefix', prefix, '--redis', testRedisUrl()]
      expect(JSON.parse((await cli([...args, 'get', 'k', '--json'])).stdout)).toEqual({
        key: 'k',
        found: false,
      })
      expect(JSON.parse((await cli([...args, 'prune', '--yes', '--json'])).stdout)).toMatchObject({
        removed: 0,
      })
      expect(JSON.parse((await cli([...args, 'keys', '--json'])).stdout)).toMatchObject({ keys: ['k'] })
      expect((await layer.get('k'))?.value).toBe(1)
    } finally {
      client.disconnect()
    }
  })
})

describe('cachestack CLI confirmation on a terminal', { timeout: CLI_TEST_TIMEOUT }, () => {
  it('asks before deleting: "n" changes nothing, "y" deletes and the app misses', async () => {
    const prefix = uniquePrefix('cli-tty')
    const channel = `${prefix}bus`
    const redis = testRedisUrl()
    const app = await startApp({ redis, prefix, channel })
    try {
      await app.call({ cmd: 'set', key: 'k', value: 'v' })
      const args = ['--prefix', prefix, '--redis', redis, '--channel', channel, 'delete', 'k']
      const no = await cliOnTerminal(args, 'n\n')
      expect(no.code).toBe(1)
      expect(no.stdout).toContain('Delete key "k"? [y/N] ')
      expect(no.stdout).toContain('cachestack: aborted: nothing was changed')
      expect(await app.call({ cmd: 'read', key: 'k' })).toMatchObject({ source: 'memory' })

      const yes = await cliOnTerminal(args, 'y\n')
      expect(yes.code).toBe(0)
      expect(yes.stdout).toContain('deleted k — published on')
      await vi.waitFor(
        async () => expect(await app.call({ cmd: 'read', key: 'k' })).toMatchObject({ source: 'factory' }),
        { timeout: 5_000, interval: 10 },
      )
    } finally {
      await app.stop()
    }
  })
})

describe('cachestack CLI on a signed bus', { timeout: CLI_TEST_TIMEOUT }, () => {
  it('signs with CACHESTACK_BUS_SECRET; without it the app ignores the message (and keeps its L1 copy)', async () => {
    const prefix = uniquePrefix('cli-signed')
    const channel = `${prefix}bus`
    const redis = testRedisUrl()
    const app = await startApp({ redis, prefix, channel, secret: 'shared-secret' })
    try {
      await app.call({ cmd: 'set', key: 'k', value: 'v' })
      const args = ['--prefix', prefix, '--redis', redis, '--channel', channel, 'delete', 'k', '--yes']
      expect((await cli(args)).code).toBe(0)
      await vi.waitFor(async () => expect(await app.call({ cmd: 'ignored' })).toBe(1), {
        timeout: 5_000,
        interval: 10,
      })
      // Unsigned: deleted from Redis, but the app's L1 still answers.
      expect(await app.call({ cmd: 'read', key: 'k' })).toMatchObject({ source: 'memory' })

      await app.call({ cmd: 'set', key: 'k', value: 'v' })
      expect((await cli(args, { env: { CACHESTACK_BUS_SECRET: 'shared-secret' } })).code).toBe(0)
      await vi.waitFor(
        async () => expect(await app.call({ cmd: 'read', key: 'k' })).toMatchObject({ source: 'factory' }),
        { timeout: 5_000, interval: 10 },
      )
    } finally {
      await app.stop()
    }
  })
})

import { createServer, type Server, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testRedisUrl } from '../../../tools/test-redis.ts'
import { freePort } from '../../../tools/test-services.ts'
import { type CliRun, cli } from './test-fixtures/harness.ts'

/** Exactly one line on stderr, nothing on stdout, exit code 1. */
function expectOneLineFailure(result: CliRun, line: string | RegExp): void {
  expect(result.code).toBe(1)
  expect(result.stdout).toBe('')
  expect(result.stderr.endsWith('\n')).toBe(true)
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1)
  expect(result.stderr.trimEnd()).toMatch(line)
}

describe('cachestack CLI: bad arguments fail with one clear line and exit 1', () => {
  const redis = () => ['--redis', testRedisUrl()]

  it.each([
    [['stats', '--jsno'], "cachestack: unknown option '--jsno' (did you mean --json?)"],
    [['--yse', 'clear'], "cachestack: unknown option '--yse' (did you mean --yes?)"],
    [['stast'], "cachestack: unknown command 'stast' (did you mean stats?)"],
    [[], 'cachestack: missing command (run cachestack --help to list them)'],
    [['get'], "cachestack: missing required argument 'key'"],
    [['get', 'a', 'b'], /^cachestack: too many arguments for 'get'/],
    [['invalidate', '--yes'], 'cachestack: invalidate needs one of --tag, --prefix or --pattern'],
    [
      ['invalidate', '--tag', 't', '--prefix', 'p', '--yes'],
      'cachestack: invalidate takes one of --tag, --prefix or --pattern, not --tag and --prefix',
    ],
    [['expire', '--yes'], 'cachestack: expire needs --tag'],
    [['keys', '--limit', '0'], /^cachestack: option '--limit <n>' argument '0' is invalid/],
    [['--timeout', 'soon', 'stats'], /^cachestack: --timeout: .*soon/],
    [['--generation', '-1', 'stats'], /^cachestack: --generation must be a whole number/],
    [
      ['delete', 'k', '--prefix', 'app:'],
      /^cachestack: --prefix is not an option of this command: .*before the command/,
    ],
    [
      ['--prefix', '', 'clear', '--yes'],
      'cachestack: clear with an empty --prefix would empty the whole Redis database; name a --namespace (or use FLUSHDB)',
    ],
    [['keys', '--namespace', 'a::b'], 'cachestack: --namespace "a::b" has an empty part (use a or a:b)'],
    [
      ['--redis', 'localhost:6379', 'stats'],
      'cachestack: --redis: "localhost:6379" is not a redis:// or rediss:// URL',
    ],
  ])('%j', async (args, line) => {
    expectOneLineFailure(await cli([...redis(), ...args]), line)
  })

  it('--help and --version succeed', async () => {
    const help = await cli(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('bump-generation')
    expect((await cli(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/)
  })
})

describe('cachestack CLI: an unreachable Redis fails fast with one line', () => {
  let stalled: Server
  const sockets: Socket[] = []
  beforeAll(async () => {
    // Accepts connections and never answers: a hung Redis, which only a timeout can detect.
    stalled = createServer((socket) => sockets.push(socket))
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve))
  })
  afterAll(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => stalled.close(resolve))
  })

  it('a refused port', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`
    expectOneLineFailure(
      await cli(['--redis', url, 'stats']),
      `cachestack: cannot reach Redis at ${url}: connect ECONNREFUSED ${url.slice('redis://'.length)}`,
    )
  })

  it('a Redis that does not answer, bounded by --timeout; REDIS_URL is read, its password never printed', async () => {
    const address = stalled.address() as { port: number }
    const result = await cli(['--timeout', '300ms', 'delete', 'k', '--yes'], {
      env: { REDIS_URL: `redis://admin:s3cret@127.0.0.1:${address.port}` },
    })
    expectOneLineFailure(
      result,
      `cachestack: cannot reach Redis at redis://admin:***@127.0.0.1:${address.port}: Redis did not answer within 300 ms`,
    )
  })
})

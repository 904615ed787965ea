import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { testRedisUrl } from '../../../tools/test-redis.ts'
import { freePort } from '../../../tools/test-services.ts'
import { cli } from './test-fixtures/harness.ts'

// Each CLI run is a Node process (~0.5 s from source, more on a loaded CI machine); a test runs several.
const CLI_TEST_TIMEOUT = 60_000

const root = fileURLToPath(new URL('..', import.meta.url))
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  bin: Record<string, string>
  files: string[]
}
const bin = join(root, pkg.bin.cachestack!)

// What `npx cachestack` runs after `npm install @cachestack/cli`: the built file, executed through its
// shebang (no `node` in front). `npm test` builds before testing; run on its own, this builds it first.
describe('the built cachestack bin', { timeout: CLI_TEST_TIMEOUT }, () => {
  beforeAll(() => {
    if (existsSync(bin)) return
    const tsdown = join(
      dirname(createRequire(import.meta.url).resolve('tsdown/package.json')),
      'dist/run.mjs',
    )
    const build = spawnSync(process.execPath, [tsdown], { cwd: root, encoding: 'utf8' })
    if (build.status !== 0) throw new Error(`tsdown failed: ${build.stdout}${build.stderr}`)
  }, 60_000)

  // Our Node first on PATH for the shebang's `env node`; core from source when its dist is not built.
  const env = {
    PATH: `${dirname(process.execPath)}:${process.env.PATH}`,
    NODE_OPTIONS: '--conditions=@cachestack/source --no-warnings',
  }

  it('is the package bin, in dist (the published files), executable, with a node shebang', () => {
    expect(pkg.bin).toEqual({ cachestack: './dist/bin.mjs' })
    expect(pkg.files).toEqual(['dist'])
    expect(statSync(bin).mode & 0o111).toBe(0o111)
    expect(readFileSync(bin, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node')
  })

  it('runs a command, and fails with one line on a refused port', async () => {
    const stats = await cli(['--redis', testRedisUrl(), 'stats', '--json'], { bin, env })
    expect(stats.stderr).toBe('')
    expect(JSON.parse(stats.stdout)).toMatchObject({ prefix: 'cachestack:', redis: { cluster: false } })
    const url = `redis://127.0.0.1:${await freePort()}`
    const down = await cli(['--redis', url, 'keys'], { bin, env })
    expect(down).toEqual({
      code: 1,
      stdout: '',
      stderr: `cachestack: cannot reach Redis at ${url}: connect ECONNREFUSED 127.0.0.1:${url.split(':')[2]}\n`,
    })
  })
})

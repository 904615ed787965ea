// The raw rows of the `beyond` group send copies of core's Lua scripts (core does not export its
// internals): a copy that drifts would measure some other script next to cachestack.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { HIT, RELEASE } from './coordination.ts'
import { WRITE } from './keyspace.ts'

const core = (path: string) =>
  readFileSync(new URL(`../../../packages/core/src/${path}`, import.meta.url), 'utf8')

describe.each([
  ['the lock release', RELEASE, 'coordination/redis-store.ts'],
  ['the sliding-log rate limit', HIT, 'coordination/redis-store.ts'],
  ['the keyspace write with an expiry', WRITE, 'keyspace/redis-backend.ts'],
])('the bench copy of %s', (_label, copy, file) => {
  it(`is the script in core's ${file}, to the letter`, () => {
    expect(core(file)).toContain(`\`${copy}\``)
  })
})

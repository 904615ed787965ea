// Invalidation cost, counted by the server itself (INFO commandstats) on a redis-server of our own.
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRedis } from '../../../../tools/test-services.ts'
import type { CacheStack } from '../cache-stack.ts'
import { eventually, instance, killRedis } from './test-fixtures/helpers.ts'

let dir: string
let server: ChildProcess
let client: Redis
let admin: Redis

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cachestack-round-trips-'))
  const started = await startRedis(dir)
  server = started.process
  client = new Redis({ port: started.port, host: '127.0.0.1' })
  admin = new Redis({ port: started.port, host: '127.0.0.1' })
})
afterAll(async () => {
  await Promise.all([client.quit(), admin.quit()])
  await killRedis(server)
  rmSync(dir, { recursive: true, force: true })
})

/** Commands the server processed, excluding the INFO calls that count them. */
async function commandCount(): Promise<number> {
  const info = await admin.info('commandstats')
  let total = 0
  for (const [, name, calls] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (name !== 'info') total += Number(calls)
  }
  return total
}

async function invalidationCost(entries: number, mode: 'any' | 'all' = 'any'): Promise<number> {
  const prefix = `rt${mode}${entries}:`
  const a = instance(client, prefix, `${prefix}bus`)
  const b = instance(client, prefix, `${prefix}bus`)
  const stacks: CacheStack[] = [a.stack, b.stack]
  await Promise.all(stacks.map((stack) => stack.ready()))
  const tags = mode === 'any' ? ['t'] : ['t', 'u']
  await a.stack.mset(Array.from({ length: entries }, (_, i) => ({ key: `k${i}`, value: i, tags })))
  // B holds every entry in its L1, so the invalidation has something to reach there too.
  await b.stack.getMany(Array.from({ length: entries }, (_, i) => `k${i}`))
  await new Promise((resolve) => setTimeout(resolve, 50))
  const before = await commandCount()
  if (mode === 'any') await a.stack.invalidateByTag('t')
  else await a.stack.invalidateByTags(['t', 'u'], 'all')
  await eventually(async () => expect(await b.stack.get(`k${entries - 1}`)).toBeUndefined())
  const cost = (await commandCount()) - before
  await Promise.all(stacks.map((stack) => stack.disconnect()))
  return cost
}

describe('tag invalidation cost', () => {
  it('is the same handful of commands for 10 and for 2,000 tagged entries', async () => {
    // Counted: the tag-state write (and its merge read), PUBLISH, and B's read after the invalidation
    // (GET + tag-state fetch) — an upper bound of the invalidation itself, whatever the entry count.
    const small = await invalidationCost(10)
    const large = await invalidationCost(2000)
    expect(large).toBe(small)
    expect(small).toBeLessThanOrEqual(8)
  })

  it("'all' mode, now stored in Redis too, costs the same handful whatever the entry count", async () => {
    // The set is filed in its first tag's state key: one merge read and one write, like a tag.
    const small = await invalidationCost(10, 'all')
    const large = await invalidationCost(2000, 'all')
    expect(large).toBe(small)
    expect(small).toBeLessThanOrEqual(9)
  })
})

import { afterEach, describe, expect, it } from 'vitest'
import { CacheStack } from './cache-stack.ts'
import { MemoryLayer, PostgresLayer } from './index.ts'
import { createManualClock } from './testing/index.ts'

const url = process.env.CACHESTACK_TEST_POSTGRES_URL!

describe('CacheStack on memory + PostgreSQL', () => {
  const stacks: CacheStack[] = []
  afterEach(async () => {
    await Promise.all(stacks.splice(0).map((cache) => cache.disconnect()))
  })

  function twoTier(clock = createManualClock(Date.now())) {
    const memory = new MemoryLayer()
    const postgres = new PostgresLayer({ connectionString: url, table: 'stack_entries' })
    const cache = new CacheStack([memory, postgres], { clock })
    stacks.push(cache)
    return { cache, memory, postgres, clock }
  }

  it('a second instance reads what the first wrote, and back-fills its memory', async () => {
    const clock = createManualClock(Date.now())
    const writer = twoTier(clock)
    const reader = twoTier(clock)
    await writer.cache.set('user:1', { name: 'Ada' }, { ttl: '60s' })
    expect(await reader.memory.has('user:1')).toBe(false)
    expect(await reader.cache.get('user:1')).toEqual({ name: 'Ada' })
    expect(await reader.memory.has('user:1')).toBe(true)
    clock.advance(61_000)
    expect(await reader.postgres.get('user:1')).toBeUndefined()
  })

  it('invalidateByPrefix reaches the table', async () => {
    const { cache, postgres } = twoTier()
    await cache.mset([
      { key: 'org:1:a', value: 1 },
      { key: 'org:1:b', value: 2 },
      { key: 'org:2:a', value: 3 },
    ])
    await cache.invalidateByPrefix('org:1:')
    expect((await postgres.getMany(['org:1:a', 'org:1:b', 'org:2:a'])).map((e) => e?.value)).toEqual([
      undefined,
      undefined,
      3,
    ])
  })
})

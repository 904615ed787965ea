// Issue 16 rows (group `beyond`): a keyspace `increment` on Redis next to the raw ioredis command doing
// the same work (INCRBY; with an expiry, the same command + PEXPIRE in one script), and the memory
// backend. Every row runs in the same rounds, rotated (see `runRows`).
import { CacheStack, expireInMinutes, MemoryLayer, RedisLayer } from '@cachestack/core'
import { Redis } from 'ioredis'
import { runRows } from './coordination.ts'
import type { RunContext, ScenarioResult } from './types.ts'

// What cachestack sends for a write that also sets the expiry (keyspace/redis-backend.ts; kept equal to
// it by script-copies.test.ts).
export const WRITE = `
local result = redis.call(ARGV[3], KEYS[1], unpack(ARGV, 4))
if ARGV[1] == 'px' then redis.call('PEXPIRE', KEYS[1], ARGV[2])
elseif ARGV[1] == 'persist' then redis.call('PERSIST', KEYS[1]) end
return result`

/** Keyspace `increment` rows. */
export async function keyspaceScenarios(ctx: RunContext): Promise<ScenarioResult[]> {
  const url = ctx.env.redis.url
  const client = new Redis(url, { maxRetriesPerRequest: 1 })
  const raw = new Redis(url, { maxRetriesPerRequest: 1 })
  const sha = (await raw.script('LOAD', WRITE)) as string
  const onRedis = new CacheStack([new MemoryLayer(), new RedisLayer({ client, prefix: 'bench-ks:' })])
  const inMemory = new CacheStack([new MemoryLayer()])
  const counters = onRedis.keyspace({ kind: 'int', pattern: 'hits/:page' })
  const expiring = onRedis.keyspace({
    kind: 'int',
    pattern: 'window/:page',
    defaultExpiry: expireInMinutes(1),
  })
  const local = inMemory.keyspace({ kind: 'int', pattern: 'hits/:page' })
  try {
    ctx.log('keyspace increment')
    return [
      await runRows(
        ctx,
        'keyspace-increment',
        'int keyspace increment, 64 keys',
        [
          {
            name: 'cachestack increment (Redis)',
            kind: 'cachestack',
            op: (i) => counters.increment({ page: i & 63 }),
          },
          { name: 'ioredis INCR', kind: 'baseline', op: (i) => raw.incr(`raw:hits/${i & 63}`) },
          {
            name: 'cachestack increment, expireIn 1m (Redis)',
            kind: 'cachestack',
            op: (i) => expiring.increment({ page: i & 63 }),
          },
          {
            name: 'ioredis EVALSHA INCRBY + PEXPIRE',
            kind: 'baseline',
            op: (i) => raw.evalsha(sha, 1, `raw:window/${i & 63}`, 'px', 60_000, 'INCRBY', 1),
          },
          {
            name: 'cachestack increment (memory)',
            kind: 'cachestack',
            op: (i) => local.increment({ page: i & 63 }),
          },
        ],
        [
          'Without an expiry an increment is one INCRBY; with one, one EVALSHA (INCRBY + PEXPIRE in one step).',
          'The key object is checked against the pattern and escaped on every call.',
        ],
      ),
    ]
  } finally {
    await onRedis.disconnect()
    await inMemory.disconnect()
    client.disconnect()
    raw.disconnect()
    await ctx.env.redis.flush()
  }
}

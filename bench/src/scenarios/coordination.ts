// Issue 16 rows (group `beyond`): `lock` + `release` and `rateLimit` on Redis next to the raw ioredis
// commands doing the same work (SET NX PX + a compare-and-delete script or a plain DEL; one EVALSHA of
// the same sliding-log script), the memory-backed forms, and what the RedisLayer `budget` costs a write
// and a Redis hit (budget on vs off vs raw SET / GET). Every row runs in the same rounds, rotated.
import { createHash } from 'node:crypto'
import { CacheStack, MemoryLayer, RedisLayer } from '@cachestack/core'
import { Redis } from 'ioredis'
import { collectGarbage, measure, rotated, summarize } from '../harness.ts'
import { makeValue } from '../value.ts'
import type { Row, RunContext, ScenarioResult } from './types.ts'

/** One row of a `beyond` table: a name, its kind and the operation measured. */
export interface Contestant {
  name: string
  kind: Row['kind']
  op: (i: number) => Promise<unknown>
}

// The same scripts cachestack sends, for the raw rows (sent by SHA, loaded once); script-copies.test.ts
// fails when they drift from core/src/coordination/redis-store.ts.
export const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`
export const HIT = `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  count = count + 1
  allowed = 1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
return {allowed, count, oldest or ARGV[1]}`
const sha = (source: string) => createHash('sha1').update(source).digest('hex')

/** Measures every contestant in the same rounds (rotated) and summarizes each row. */
export async function runRows(
  ctx: RunContext,
  id: string,
  title: string,
  contestants: Contestant[],
  notes: string[],
): Promise<ScenarioResult> {
  const rows: Row[] = contestants.map((c) => ({
    contender: c.name,
    kind: c.kind,
    status: 'ok',
    failures: [],
    samples: [],
  }))
  collectGarbage()
  for (let round = 0; round < ctx.rounds; round++) {
    for (const i of rotated(
      contestants.map((_, i) => i),
      round,
    )) {
      collectGarbage('minor')
      const sample = await measure(contestants[i]!.op, ctx.measure)
      rows[i]!.samples.push(sample.nsPerOp)
    }
  }
  return {
    id,
    title,
    tier: 'redis',
    unit: 'ns/op',
    notes,
    rows: rows.map((row) => ({ ...row, summary: summarize(row.samples) })),
  }
}

/** `lock`+`release`, `rateLimit`, budget write and hit rows. */
export async function coordinationScenarios(ctx: RunContext): Promise<ScenarioResult[]> {
  const url = ctx.env.redis.url
  const client = new Redis(url, { maxRetriesPerRequest: 1 })
  const raw = new Redis(url, { maxRetriesPerRequest: 1 })
  await raw.script('LOAD', RELEASE)
  await raw.script('LOAD', HIT)
  const onRedis = new CacheStack([new MemoryLayer(), new RedisLayer({ client, prefix: 'bench-coord:' })])
  const inMemory = new CacheStack([new MemoryLayer()])
  const results: ScenarioResult[] = []
  try {
    ctx.log('lock + release')
    results.push(
      await runRows(
        ctx,
        'lock-release',
        'lock + release, one key, uncontended',
        [
          {
            name: 'cachestack lock + release (Redis)',
            kind: 'cachestack',
            op: async () => {
              const held = await onRedis.lock('job', { ttl: '10s' })
              await held.release()
            },
          },
          {
            name: 'ioredis SET NX PX + EVALSHA release',
            kind: 'baseline',
            op: async (i) => {
              const owner = `o${i}`
              await raw.set('raw:lock', owner, 'PX', 10_000, 'NX')
              await raw.evalsha(sha(RELEASE), 1, 'raw:lock', owner)
            },
          },
          {
            name: 'ioredis SET NX PX + DEL (not owner-safe)',
            kind: 'baseline',
            op: async (i) => {
              await raw.set('raw:lock2', `o${i}`, 'PX', 10_000, 'NX')
              await raw.del('raw:lock2')
            },
          },
          {
            name: 'cachestack lock + release (memory)',
            kind: 'cachestack',
            op: async () => {
              const held = await inMemory.lock('job', { ttl: '10s' })
              await held.release()
            },
          },
        ],
        ['Each op takes the lock and releases it: two round trips on Redis for every row but memory.'],
      ),
    )
    ctx.log('rateLimit')
    const instance = 'bench'
    results.push(
      await runRows(
        ctx,
        'rate-limit',
        'rateLimit, 64 keys, limit 1,000 per minute (the log holds up to 1,000 times per key)',
        [
          {
            name: 'cachestack rateLimit (Redis)',
            kind: 'cachestack',
            op: (i) => onRedis.rateLimit({ key: `k${i & 63}`, limit: 1_000, window: '1m' }),
          },
          {
            name: 'ioredis EVALSHA (same sliding-log script)',
            kind: 'baseline',
            op: (i) =>
              raw.evalsha(sha(HIT), 1, `raw:rate:${i & 63}`, Date.now(), 60_000, 1_000, `${instance}:${i}`),
          },
          {
            name: 'cachestack rateLimit (memory)',
            kind: 'cachestack',
            op: (i) => inMemory.rateLimit({ key: `k${i & 63}`, limit: 1_000, window: '1m' }),
          },
        ],
        ['Keys fill to the limit within the first round; later calls are refusals after the same cleanup.'],
      ),
    )
  } finally {
    await onRedis.disconnect()
    await inMemory.disconnect()
  }
  await ctx.env.redis.flush()
  results.push(...(await budgetScenarios(ctx, client, raw)))
  client.disconnect()
  raw.disconnect()
  await ctx.env.redis.flush()
  return results
}

/** Writes and Redis hits with the layer's `budget` on and off (Redis-only stacks: every read reaches Redis). */
async function budgetScenarios(ctx: RunContext, client: Redis, raw: Redis): Promise<ScenarioResult[]> {
  const value = makeValue(0)
  const payload = JSON.stringify(value)
  const plain = new CacheStack([new RedisLayer({ client, prefix: 'bench-plain:' })], { ttl: '10m' })
  // Large enough that nothing is evicted during the run: this is the cost of the bookkeeping alone.
  const budgeted = new CacheStack([new RedisLayer({ client, prefix: 'bench-budget:', budget: '1gb' })], {
    ttl: '10m',
  })
  const KEYS = 1_024
  for (let i = 0; i < KEYS; i++) {
    await plain.set(`k${i}`, value)
    await budgeted.set(`k${i}`, value)
    await raw.set(`raw:k${i}`, payload, 'PX', 600_000)
  }
  try {
    ctx.log('budget: write')
    const write = await runRows(
      ctx,
      'budget-write',
      'set on a Redis-only stack, RedisLayer budget on vs off (1,024 keys overwritten)',
      [
        {
          name: 'cachestack set, budget on',
          kind: 'cachestack',
          op: (i) => budgeted.set(`k${i & 1023}`, value),
        },
        {
          name: 'cachestack set, budget off',
          kind: 'cachestack',
          op: (i) => plain.set(`k${i & 1023}`, value),
        },
        {
          name: 'ioredis SET PX (JSON)',
          kind: 'baseline',
          op: (i) => raw.set(`raw:k${i & 1023}`, payload, 'PX', 600_000),
        },
      ],
      ['Budget on: one script (SET + size hash + last-use sorted set + total) instead of one SET.'],
    )
    ctx.log('budget: hit')
    const hit = await runRows(
      ctx,
      'budget-hit',
      'get (Redis hit) on a Redis-only stack, RedisLayer budget on vs off',
      [
        { name: 'cachestack get, budget on', kind: 'cachestack', op: (i) => budgeted.get(`k${i & 1023}`) },
        { name: 'cachestack get, budget off', kind: 'cachestack', op: (i) => plain.get(`k${i & 1023}`) },
        {
          name: 'ioredis GET + JSON.parse',
          kind: 'baseline',
          op: async (i) => JSON.parse((await raw.get(`raw:k${i & 1023}`)) ?? 'null'),
        },
      ],
      [
        'Budget on: a ZADD XX of the last-use time goes out behind the GET (not awaited), at most once a second per key: 1,024 keys cycled here, each read every ~0.1 s.',
      ],
    )
    return [write, hit]
  } finally {
    await plain.disconnect()
    await budgeted.disconnect()
  }
}

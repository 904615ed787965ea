// The first read of an entry after its tag was invalidated, next to a plain miss measured in the same
// rounds: both run the factory and write; the first may also pay for finding the dead copy (issue 18:
// it must cost no more than the plain miss). Per round and contender: ENTRIES tagged entries are
// written and read once (so a two-tier L1 holds them), the tag is invalidated, then each entry is read
// with getOrSet, each followed by a never-seen key read with getOrSet, every call timed on its own; a
// round's sample is the median call of each kind.
import type { CacheAdapter, Contender, Tier } from '../contenders/index.ts'
import { collectGarbage, rotated, summarize } from '../harness.ts'
import { deepEqual, makeValue } from '../value.ts'
import { describe, inChunks } from './run-ops.ts'
import type { Row, RunContext, ScenarioResult } from './types.ts'

const tier2 = (tier: Tier) => (tier === 'memory' ? 'memory' : 'memory + Redis')

export async function afterInvalidationScenario(
  ctx: RunContext,
  tier: Tier,
  contenders: readonly Contender[],
): Promise<ScenarioResult[]> {
  const entries = ctx.quick ? 100 : 400
  const live: { contender: Contender; adapter?: CacheAdapter; after: Row; plain: Row }[] = []
  const row = (contender: Contender): Row => ({
    contender: contender.name,
    kind: contender.kind,
    status: 'ok',
    failures: [],
    samples: [],
  })
  // The caller passes the floor it wants beside the caches (main.ts: on memory + Redis, a raw GET + SET).
  for (const contender of contenders.filter((c) => c.supportsTags)) {
    if (!contender.tiers.includes(tier)) continue
    const entry: (typeof live)[number] = { contender, after: row(contender), plain: row(contender) }
    live.push(entry)
    const fail = (failures: string[]) => {
      for (const r of [entry.after, entry.plain]) Object.assign(r, { status: 'failed', failures })
    }
    if (contender.unavailable) {
      for (const r of [entry.after, entry.plain])
        Object.assign(r, { status: 'unavailable', failures: [contender.unavailable] })
      continue
    }
    try {
      entry.adapter = await contender.create(tier, ctx.env, {
        prefix: `after-${contender.name.replace(/\W+/g, '-')}`,
        maxItems: 200_000,
        tags: true,
      })
      // Warm rounds for as long as the other scenarios warm up (at least one): a round is only ~800
      // calls, and the optimizing compiler reaches the miss path's functions over some dozen rounds
      // (one warm round measured the compiler's progress, the first read 6% above the plain miss in
      // the first round and level with it by the fifteenth).
      const warmUntil = performance.now() + ctx.measure.warmupMs
      let failures: string[] = []
      let warm = 0
      do {
        failures = await round(
          entry.adapter,
          `warm${warm++}`,
          entries,
          () => {},
          () => {},
        )
      } while (failures.length === 0 && performance.now() < warmUntil)
      if (failures.length > 0) fail(failures)
    } catch (error) {
      fail([describe(error)])
    }
  }
  for (let r = 0; r < ctx.rounds; r++) {
    for (const entry of rotated(live, r)) {
      if (!entry.adapter || entry.after.status !== 'ok') continue
      try {
        const failures = await round(
          entry.adapter,
          String(r),
          entries,
          (ns) => entry.after.samples.push(ns),
          (ns) => entry.plain.samples.push(ns),
        )
        if (failures.length > 0) {
          for (const x of [entry.after, entry.plain]) Object.assign(x, { status: 'failed', failures })
        }
      } catch (error) {
        for (const x of [entry.after, entry.plain])
          Object.assign(x, { status: 'failed', failures: [describe(error)] })
      }
    }
  }
  for (const entry of live) {
    for (const x of [entry.after, entry.plain]) if (x.samples.length > 0) x.summary = summarize(x.samples)
    await entry.adapter?.close().catch(() => {})
  }
  await ctx.env.redis.flush()
  const notes = [`${entries} keys per round; getOrSet with an instant factory, awaited one after the other`]
  return [
    {
      id: `after-invalidation-${tier}`,
      title: `first getOrSet after invalidateByTag, ${tier2(tier)}`,
      tier,
      unit: 'ns/op',
      rows: live.map((entry) => entry.after),
      notes: [...notes, 'each read must return the factory value, not the invalidated one (checked)'],
    },
    {
      id: `after-invalidation-miss-${tier}`,
      title: `plain getOrSet miss (same rounds as the row above), ${tier2(tier)}`,
      tier,
      unit: 'ns/op',
      rows: live.map((entry) => entry.plain),
      notes,
    },
  ]
}

async function round(
  adapter: CacheAdapter,
  name: string,
  entries: number,
  after: (ns: number) => void,
  plain: (ns: number) => void,
): Promise<string[]> {
  const old = makeValue(3)
  const fresh = makeValue(9)
  const factory = async () => fresh
  const tag = `ai:${name}`
  await inChunks(entries, (i) => adapter.set(`ai:${name}:${i}`, old, { tags: [tag] }))
  for (let i = 0; i < entries; i++) await adapter.get(`ai:${name}:${i}`)
  await adapter.invalidateTag!(tag)
  const failures: string[] = []
  const got: unknown[] = new Array(entries)
  const afterTimes: number[] = []
  const plainTimes: number[] = []
  collectGarbage('minor')
  // One key of each kind after the other, each call timed on its own (a call is 10+ µs, the clock
  // ~50 ns): collector work left by the loop or contender before falls on both kinds alike, where two
  // timed blocks one after the other put it on whichever ran first.
  for (let i = 0; i < entries; i++) {
    let t0 = performance.now()
    got[i] = await adapter.getOrSet(`ai:${name}:${i}`, factory)
    afterTimes.push(performance.now() - t0)
    t0 = performance.now()
    await adapter.getOrSet(`pm:${name}:${i}`, factory)
    plainTimes.push(performance.now() - t0)
  }
  after(summarize(afterTimes).median * 1e6)
  plain(summarize(plainTimes).median * 1e6)
  if (got.some((value) => value !== fresh && !deepEqual(value, fresh))) {
    failures.push('a read after the invalidation returned the invalidated value')
  }
  return failures
}

// Tags. Reads: the same instance serves tagged and untagged keys, so the difference is the price of
// tag bookkeeping on a hit (with 64 unrelated tags invalidated beforehand). Invalidation: time of one invalidateByTag call on a tag held by
// ENTRIES_PER_TAG entries; afterwards every one of those entries must miss.
import type { CacheAdapter, Contender, Tier } from '../contenders/index.ts'
import { collectGarbage, rotated, settle, summarize } from '../harness.ts'
import { deepEqual, makeValue } from '../value.ts'
import { checkHits } from './hit.ts'
import { describe, inChunks, runOpScenario } from './run-ops.ts'
import type { Row, RunContext, ScenarioResult } from './types.ts'

const KEYS = 1_024
const TAGGED = Array.from({ length: KEYS }, (_, i) => `tagged:${i}`)
const UNTAGGED = Array.from({ length: KEYS }, (_, i) => `plain:${i}`)
const tier2 = (tier: Tier) => (tier === 'memory' ? 'memory' : 'memory + Redis')

export function taggedReadScenario(ctx: RunContext, tier: Tier, contenders: readonly Contender[]) {
  return runOpScenario(ctx, {
    tier,
    contenders: contenders.filter((c) => c.supportsTags),
    createOptions: { tags: true },
    async setup(adapter) {
      await inChunks(KEYS, async (i) => {
        await adapter.set(TAGGED[i]!, makeValue(i), { tags: [`group:${i % 16}`, 'catalog'] })
        await adapter.set(UNTAGGED[i]!, makeValue(i))
      })
      // Steady state of a tagged cache: other tags have been invalidated, so a library that skips its
      // tag check while nothing was ever invalidated does not get a free pass here.
      for (let n = 0; n < 64; n++) await adapter.invalidateTag!(`unrelated:${n}`)
    },
    async check(adapter) {
      const failures = [
        ...(await checkHits(adapter, 'tagged:', [0, 5, KEYS - 1])),
        ...(await checkHits(adapter, 'plain:', [0, 5, KEYS - 1])),
      ]
      return { failures }
    },
    variants: [
      {
        id: `tagged-read-${tier}`,
        title: `tagged read (2 tags per entry), ${tier2(tier)}`,
        op: (adapter) => (i) => adapter.get(TAGGED[i & (KEYS - 1)]!),
      },
      {
        id: `untagged-read-${tier}`,
        title: `untagged read, same tag-enabled instance, ${tier2(tier)}`,
        op: (adapter) => (i) => adapter.get(UNTAGGED[i & (KEYS - 1)]!),
      },
    ],
  })
}

/**
 * `perTag` entries per tag: 10 (40 tags a round, 10 quick) or 10,000 (2 tags a round: the entries are
 * rewritten every round, untimed, so a library whose invalidation works per entry pays for each).
 */
export async function tagInvalidationScenario(
  ctx: RunContext,
  tier: Tier,
  contenders: readonly Contender[],
  perTag = 10,
): Promise<ScenarioResult> {
  const tags = perTag > 100 ? 2 : ctx.quick ? 10 : 40
  const live: { contender: Contender; adapter?: CacheAdapter; row: Row }[] = []
  for (const contender of contenders.filter((c) => c.supportsTags)) {
    if (!contender.tiers.includes(tier) && contender.kind !== 'cachestack') continue
    const row: Row = {
      contender: contender.name,
      kind: contender.kind,
      status: 'ok',
      failures: [],
      samples: [],
    }
    live.push({ contender, row })
    const unavailable =
      contender.unavailable ?? (contender.tiers.includes(tier) ? undefined : `no ${tier} tier yet`)
    if (unavailable) {
      Object.assign(row, { status: 'unavailable', failures: [unavailable] })
      continue
    }
    try {
      const adapter = await contender.create(tier, ctx.env, {
        prefix: `inv-${contender.name.replace(/\W+/g, '-')}`,
        maxItems: 200_000,
        tags: true,
      })
      live[live.length - 1]!.adapter = adapter
      // Warm-up round: the same work once, untimed, and its correctness checked too.
      const failures = await invalidateRound(adapter, 'warm', tags, perTag, () => {})
      // A floor (raw SET + PUBLISH) is not a cache: only its time counts.
      if (failures.length > 0 && contender.kind !== 'baseline')
        Object.assign(row, { status: 'failed', failures })
    } catch (error) {
      Object.assign(row, { status: 'failed', failures: [describe(error)] })
    }
  }

  for (let round = 0; round < ctx.rounds; round++) {
    for (const entry of rotated(live, round)) {
      if (!entry.adapter || entry.row.status !== 'ok') continue
      try {
        const failures = await invalidateRound(entry.adapter, String(round), tags, perTag, (ns) =>
          entry.row.samples.push(ns),
        )
        if (failures.length > 0 && entry.contender.kind !== 'baseline')
          Object.assign(entry.row, { status: 'failed', failures })
      } catch (error) {
        Object.assign(entry.row, { status: 'failed', failures: [describe(error)] })
      }
    }
  }
  for (const entry of live) {
    if (entry.row.samples.length > 0) entry.row.summary = summarize(entry.row.samples)
    await entry.adapter?.close().catch(() => {})
  }
  await ctx.env.redis.flush()
  return {
    id: `tag-invalidation-${tier}${perTag > 100 ? `-${perTag}` : ''}`,
    title: `invalidateByTag, ${perTag.toLocaleString('en-US')} entries per tag, ${tier2(tier)}`,
    tier,
    unit: 'ns/op',
    rows: live.map((entry) => entry.row),
    notes: ['median time of one invalidation call; every entry of the tag must miss afterwards (checked)'],
  }
}

/**
 * A round's entries: `perTag` under each of `tags` tags (`inv:<round>:<t>`, and `shared`), each tag's
 * first entry read once so that L1 of a two-tier stack holds it (invalidation must reach it there too).
 */
export async function writeTaggedEntries(
  adapter: CacheAdapter,
  round: string,
  tags: number,
  perTag: number,
  value: unknown,
): Promise<void> {
  await inChunks(tags * perTag, (n) => {
    const t = Math.floor(n / perTag)
    return adapter.set(`inv:${round}:${t}:${n % perTag}`, value, { tags: [`inv:${round}:${t}`, 'shared'] })
  })
  for (let t = 0; t < tags; t++) await adapter.get(`inv:${round}:${t}:0`)
}

/** Writes `tags` x `perTag` tagged entries, times the invalidation of each tag, checks they all miss. */
async function invalidateRound(
  adapter: CacheAdapter,
  round: string,
  tags: number,
  perTag: number,
  record: (nsPerInvalidation: number) => void,
): Promise<string[]> {
  const value = makeValue(3)
  const keep = `inv:${round}:untouched`
  // Per round, so that 10,000-entry rounds do not pile up in memory: the previous round's are dead.
  await adapter.clear()
  await adapter.set(keep, value, { tags: ['other'] })
  await writeTaggedEntries(adapter, round, tags, perTag, value)
  // Untimed: let the bus deliver the echoes of the writes above, and collect their garbage (after
  // 10,000 writes a major GC would otherwise run its steps inside the timed calls).
  await new Promise((resolve) => setTimeout(resolve, 20))
  collectGarbage(perTag > 100 ? 'major' : 'minor')
  // The same for every contender: the collection's own tail (V8 sweeping on helper threads, 7–16 ms
  // of CPU after the major one) and anything a library still runs from the writes above (echoes,
  // flushes) finish before timing, not inside it: with 10,000 entries a tag, that tail alone made
  // the median of one invalidation 0.1–4 ms whoever was measured (issue 18).
  await settle()
  // One untimed call on a tag nobody carries: the first call after a collection runs cold (its code
  // and caches), which is not what an invalidation costs; every contender gets the same warm-up.
  await adapter.invalidateTag!(`inv:${round}:warm-up`)
  // Each call timed on its own; the round's sample is their median (one slow call is noise, not cost).
  const times: number[] = []
  for (let t = 0; t < tags; t++) {
    const t0 = process.hrtime.bigint()
    await adapter.invalidateTag!(`inv:${round}:${t}`)
    times.push(Number(process.hrtime.bigint() - t0))
  }
  record(summarize(times).median)

  const failures: string[] = []
  for (let t = 0; t < tags; t++) {
    for (let e = 0; e < perTag; e += Math.max(1, Math.floor(perTag / 4))) {
      const got = await adapter.get(`inv:${round}:${t}:${e}`)
      if (got !== undefined && got !== null) {
        failures.push(`stale value after invalidating tag inv:${round}:${t}`)
        return failures
      }
    }
  }
  if (!deepEqual(await adapter.get(keep), value))
    failures.push('invalidation removed an entry of another tag')
  return failures
}

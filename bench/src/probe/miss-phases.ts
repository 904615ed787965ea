// Where a getOrSet miss on Redis spends its time, beside raw GET + SET PX, interleaved in one process:
// for each call, the time to send the GET, the GET's round trip, from its reply to sending the SET, the
// SET's round trip, and from its reply to the caller resuming. The client's get/set are wrapped to take
// the times (the same wrapper on both sides).
// node --conditions=@cachestack/source src/probe/miss-phases.ts [write-behind]
import { CacheStack, RedisLayer } from '@cachestack/core'
import { Redis } from 'ioredis'
import { summarize } from '../harness.ts'

const port = Number(process.env.PROBE_REDIS_PORT ?? 6391)
const ours = new Redis({ port })
const raw = new Redis({ port })
await Promise.all([ours.ping(), raw.ping()])
let marks: Record<string, number> = {}
for (const client of [ours, raw]) {
  const get = client.get.bind(client)
  const set = client.set.bind(client) as (...args: unknown[]) => Promise<unknown>
  ;(client as any).get = (key: string) => {
    marks.getSent = performance.now()
    return get(key).then((v) => {
      marks.getReply = performance.now()
      return v
    })
  }
  ;(client as any).set = (...args: unknown[]) => {
    marks.setSent = performance.now()
    return set(...args).then((v) => {
      marks.setReply = performance.now()
      return v
    })
  }
}
const value = { id: 1, name: 'x'.repeat(900) }
const factory = async () => value
const stack = new CacheStack([new RedisLayer({ client: ours, prefix: 'ph:' })], {
  ttl: 600000,
  ...(process.argv[2] === 'write-behind' ? { writeStrategy: 'write-behind' as const } : {}),
})
// Keys unique to this run: a key left by an earlier run would turn a miss into a hit.
const run = Date.now().toString(36)
let seq = 0
const phases = ['toGet', 'get', 'toSet', 'set', 'toEnd', 'total'] as const
type Phases = Record<(typeof phases)[number], number>
async function timed(op: () => Promise<unknown>): Promise<Phases> {
  marks = {}
  const start = performance.now()
  await op()
  const end = performance.now()
  const m = marks
  // write-behind: the SET is sent after the caller resumed, so only the phases before it and the total
  // mean anything (and the deferred SET runs during the next raw call, which it slows).
  return {
    toGet: m.getSent! - start,
    get: m.getReply! - m.getSent!,
    toSet: m.setSent! - m.getReply!,
    set: m.setReply! - m.setSent!,
    toEnd: end - (m.setReply ?? end),
    total: end - start,
  }
}
const ops = [
  () => stack.getOrSet(`${run}:${seq++}`, factory),
  async () => {
    const k = `r:${run}:${seq++}`
    if ((await raw.get(k)) === null) await raw.set(k, JSON.stringify(value), 'PX', 600000)
  },
]
const med = (v: readonly number[]) => summarize(v).median
const all: Phases[][] = [[], []]
for (let round = 0; round < 20; round++) {
  for (let i = 0; i < 600; i++) {
    for (let k = 0; k < 2; k++) {
      const j = (i + k) % 2
      const p = await timed(ops[j]!)
      if (round >= 4) all[j]!.push(p)
    }
  }
}
for (const [name, list] of [
  ['cachestack', all[0]!],
  ['raw', all[1]!],
] as const) {
  console.log(
    name.padEnd(10),
    phases.map((p) => `${p} ${(med(list.map((x) => x[p])) * 1000).toFixed(1)}`).join('  '),
  )
}
await stack.disconnect()
ours.disconnect()
raw.disconnect()

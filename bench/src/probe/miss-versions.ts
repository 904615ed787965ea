// Interleaved A/B of getOrSet misses on Redis between two checkouts of core, and raw GET + SET PX, in one
// process: node --conditions=@cachestack/source src/probe/miss-versions.ts /path/a/packages/core /path/b/packages/core
import { Redis } from 'ioredis'
import { summarize } from '../harness.ts'

const [dirA, dirB] = process.argv.slice(2)
const port = Number(process.env.PROBE_REDIS_PORT ?? 6391)
const A = await import(`${dirA}/src/index.ts`)
const B = await import(`${dirB}/src/index.ts`)
const clients = [new Redis({ port }), new Redis({ port }), new Redis({ port })]
await Promise.all(clients.map((c) => c.ping()))
const value = { id: 1, name: 'x'.repeat(900) }
const factory = async () => value
const stackA = new A.CacheStack([new A.RedisLayer({ client: clients[0], prefix: 'va:' })], { ttl: 600000 })
const stackB = new B.CacheStack([new B.RedisLayer({ client: clients[1], prefix: 'vb:' })], { ttl: 600000 })
const raw = clients[2]!
// Keys unique to this run: a key left by an earlier run would turn a miss into a hit.
const run = Date.now().toString(36)
let seq = 0
const ops: (() => Promise<unknown>)[] = [
  () => stackA.getOrSet(`${run}:${seq++}`, factory),
  () => stackB.getOrSet(`${run}:${seq++}`, factory),
  async () => {
    const k = `r:${run}:${seq++}`
    if ((await raw.get(k)) === null) await raw.set(k, JSON.stringify(value), 'PX', 600000)
  },
]
const med = (v: readonly number[]) => summarize(v).median
const per: number[][] = [[], [], []]
for (let round = 0; round < 25; round++) {
  const t: number[][] = [[], [], []]
  for (let i = 0; i < 600; i++) {
    for (let k = 0; k < 3; k++) {
      const j = (i + k) % 3
      const t0 = performance.now()
      await ops[j]!()
      t[j]!.push(performance.now() - t0)
    }
  }
  if (round >= 5) for (let j = 0; j < 3; j++) per[j]!.push(med(t[j]!))
}
const [a, b, r] = per.map(med) as [number, number, number]
console.log(
  `A ${(a * 1000).toFixed(1)} µs (${(a / r).toFixed(3)}x raw)  B ${(b * 1000).toFixed(1)} µs (${(b / r).toFixed(3)}x raw)  raw ${(r * 1000).toFixed(1)} µs`,
)
await Promise.all([stackA.disconnect(), stackB.disconnect()])
for (const c of clients) c.disconnect()

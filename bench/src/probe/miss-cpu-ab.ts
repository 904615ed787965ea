// Main-thread CPU time and wall time per getOrSet miss for two checkouts of core and the raw client, in
// one process, in blocks of 500 calls whose order rotates every round. CPU time (process.threadCpuUsage)
// moves far less than wall time on a noisy VM: the A/B to tell a saving from drift.
// [WB=1] [TIER=redis|two-tier] node --conditions=@cachestack/source src/probe/miss-cpu-ab.ts DIR_A DIR_B
// (DIR_* are packages/core directories; needs a redis-server on PROBE_REDIS_PORT, default 6391).
import { Redis } from 'ioredis'
import { summarize } from '../harness.ts'
import { makeValue } from '../value.ts'

const dirs = process.argv.slice(2, 4)
const port = Number(process.env.PROBE_REDIS_PORT ?? 6391)
const twoTier = process.env.TIER === 'two-tier'
const value = makeValue(7)
const factory = async () => value
const run = Date.now().toString(36)
let seq = 0
const modes: [string, () => Promise<unknown>][] = []
const closers: (() => unknown)[] = []
for (const [n, dir] of dirs.entries()) {
  const core = await import(`${dir}/src/index.ts`)
  const client = new Redis({ port })
  const layers = [new core.RedisLayer({ client, prefix: `ab${n}:` })]
  if (twoTier) layers.unshift(new core.MemoryLayer({ maxItems: 1_000_000 }))
  const stack = new core.CacheStack(layers, {
    ttl: 600_000,
    ...(process.env.WB ? { writeStrategy: 'write-behind' } : {}),
  })
  modes.push([`${'AB'[n]} ${dir}`, () => stack.getOrSet(`${run}:${seq++}`, factory)])
  closers.push(async () => {
    await stack.disconnect()
    client.disconnect()
  })
}
const raw = new Redis({ port })
closers.push(() => raw.disconnect())
modes.push([
  'raw GET + SET PX',
  async () => {
    const k = `r:${run}:${seq++}`
    if ((await raw.get(k)) === null) await raw.set(k, JSON.stringify(value), 'PX', 600_000)
  },
])
const N = 500
const wall: number[][] = modes.map(() => [])
const cpu: number[][] = modes.map(() => [])
for (let round = 0; round < Number(process.env.ROUNDS ?? 30); round++) {
  for (let k = 0; k < modes.length; k++) {
    const j = (round + k) % modes.length
    const op = modes[j]![1]
    const c0 = process.threadCpuUsage()
    const t0 = performance.now()
    for (let i = 0; i < N; i++) await op()
    const t1 = performance.now()
    const c1 = process.threadCpuUsage(c0)
    if (round < 4) continue
    wall[j]!.push(((t1 - t0) * 1000) / N)
    cpu[j]!.push((c1.user + c1.system) / N)
  }
}
const med = (v: number[]) => summarize(v).median
const rawWall = med(wall.at(-1)!)
const rawCpu = med(cpu.at(-1)!)
for (const [j, [name]] of modes.entries()) {
  const w = med(wall[j]!)
  const c = med(cpu[j]!)
  console.log(
    `${name.padEnd(36)} wall ${w.toFixed(1).padStart(6)} µs (${(w / rawWall).toFixed(3)}x)  main-thread CPU ${c.toFixed(1).padStart(6)} µs (${(c / rawCpu).toFixed(3)}x, +${(c - rawCpu).toFixed(1)})`,
  )
}
for (const close of closers) await close()

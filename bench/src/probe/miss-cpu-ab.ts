// Main-thread CPU time and wall time per getOrSet miss for two checkouts of core and the raw client, in
// one process, in blocks of 500 calls whose order rotates every round. CPU time (process.threadCpuUsage)
// moves far less than wall time on a noisy VM: the A/B to tell a saving from drift.
// [WB=1] [TIER=redis|two-tier] node --conditions=@cachestack/source src/probe/miss-cpu-ab.ts DIR_A DIR_B
// (DIR_* are packages/core directories; needs a redis-server on PROBE_REDIS_PORT, default 6391).
import { summarize } from '../harness.ts'
import { makeValue } from '../value.ts'
import { checkoutMisses } from './checkout-misses.ts'

const { modes, close } = await checkoutMisses(process.argv.slice(2, 4), makeValue(7), {
  port: Number(process.env.PROBE_REDIS_PORT ?? 6391),
  twoTier: process.env.TIER === 'two-tier',
  writeBehind: process.env.WB !== undefined,
})
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
await close()

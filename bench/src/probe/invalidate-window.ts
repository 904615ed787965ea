// The tag-invalidation scenario's rounds (scenarios/tags.ts) for chosen contenders, memory + Redis, and
// what happens inside each timed call: its time, the CPU other threads of this process used meanwhile
// (V8's GC helpers), GCs, with MONITOR=1 the Redis commands sent while timing (any client), and with
// CPU=1 Redis's main-thread CPU across the timed calls (read with INFO before and after).
//   node --expose-gc --conditions=@cachestack/source src/probe/invalidate-window.ts \
//     [perTag=10000] [rounds=5] [cs,csbus,bento,cacheable,raw]
// SETTLE=none skips the scenario's settle() after its GC (to see what it waits out).
// WINDOWS=file.json writes each timed window's hrtime span (µs), to cut a --cpu-prof profile with.
import { writeFileSync } from 'node:fs'
import { PerformanceObserver } from 'node:perf_hooks'
import { Redis } from 'ioredis'
import { setPublishBaseline } from '../contenders/baselines.ts'
import { bentocacheContender } from '../contenders/bentocache.ts'
import { cacheableContender } from '../contenders/cacheable.ts'
import { cachestackContender } from '../contenders/cachestack.ts'
import type { BenchEnv, CacheAdapter, Contender } from '../contenders/index.ts'
import { collectGarbage, rotated, settle } from '../harness.ts'
import { writeTaggedEntries } from '../scenarios/tags.ts'
import { makeValue } from '../value.ts'

const perTag = Number(process.argv[2] ?? 10_000)
const rounds = Number(process.argv[3] ?? 5)
const names = (process.argv[4] ?? 'cs,csbus,bento,cacheable,raw').split(',')
const port = Number(process.env.PROBE_REDIS_PORT ?? 6391)
const all: Record<string, Contender> = {
  cs: cachestackContender(),
  csbus: cachestackContender({ bus: true }),
  bento: bentocacheContender,
  cacheable: cacheableContender,
  raw: setPublishBaseline,
}
const noop = async () => {}
const env = {
  redis: { url: '', host: '127.0.0.1', port, db: 0, owned: false, version: '', flush: noop, stop: noop },
  ttlMs: 600_000,
} satisfies BenchEnv

const gcs: { start: number; duration: number }[] = []
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcs.push({ start: e.startTime, duration: e.duration })
}).observe({ entryTypes: ['gc'] })

const control = new Redis({ port })
await control.flushdb()
const monitor = process.env.MONITOR ? await new Redis({ port }).monitor() : undefined
let timing = false
const commands = new Map<string, number>()
monitor?.on('monitor', (_time: string, args: string[]) => {
  const name = String(args[0]).toLowerCase()
  if (name === 'echo') timing = args[1] === 'start'
  else if (timing) commands.set(name, (commands.get(name) ?? 0) + 1)
})

const live: { name: string; adapter: CacheAdapter; times: number[] }[] = []
for (const name of names) {
  const options = { prefix: `inv-${name}`, maxItems: 200_000, tags: true }
  live.push({ name, adapter: await all[name]!.create('two-tier', env, options), times: [] })
}
const windows: { name: string; round: number; from: number; to: number }[] = []
const otherThreads = (since: { cpu: NodeJS.CpuUsage; main: NodeJS.CpuUsage }) => {
  const cpu = process.cpuUsage(since.cpu)
  const main = process.threadCpuUsage(since.main)
  return Math.max(0, cpu.user + cpu.system - main.user - main.system)
}
const tags = 2
/** Redis's main-thread CPU so far, µs (`INFO cpu`). */
async function redisCpu(): Promise<number> {
  const info = await control.info('cpu')
  const read = (field: string) => Number(info.match(new RegExp(`${field}:([0-9.]+)`))?.[1] ?? 0)
  return (read('used_cpu_user_main_thread') + read('used_cpu_sys_main_thread')) * 1e6
}
for (let round = -1; round < rounds; round++) {
  for (const entry of rotated(live, Math.max(0, round))) {
    const { adapter } = entry
    const r = String(round)
    const value = makeValue(3)
    await adapter.clear()
    await writeTaggedEntries(adapter, r, tags, perTag, value)
    await new Promise((resolve) => setTimeout(resolve, 20))
    collectGarbage(perTag > 100 ? 'major' : 'minor')
    const waited = process.env.SETTLE === 'none' ? 0 : await settle()
    await adapter.invalidateTag!(`inv:${r}:warm-up`)
    if (monitor) await control.echo('start')
    const redis0 = process.env.CPU ? await redisCpu() : 0
    const w0 = performance.now()
    const h0 = process.hrtime.bigint() / 1000n
    const times: number[] = []
    const others: number[] = []
    for (let t = 0; t < tags; t++) {
      const since = { cpu: process.cpuUsage(), main: process.threadCpuUsage() }
      const t0 = process.hrtime.bigint()
      await adapter.invalidateTag!(`inv:${r}:${t}`)
      times.push(Number(process.hrtime.bigint() - t0) / 1000)
      others.push(otherThreads(since))
    }
    windows.push({ name: entry.name, round, from: Number(h0), to: Number(process.hrtime.bigint() / 1000n) })
    const w1 = performance.now()
    const redisUsed = process.env.CPU ? (await redisCpu()) - redis0 : 0
    if (monitor) {
      await control.echo('end')
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    if (round >= 0) entry.times.push(...times)
    const inside = gcs.filter((g) => g.start >= w0 && g.start < w1)
    console.log(
      `round ${round} ${entry.name.padEnd(9)} ${times.map((t) => t.toFixed(0).padStart(6)).join(' ')} µs` +
        `  other threads' cpu ${others.map((c) => c.toFixed(0)).join('/')} µs` +
        `  settled in ${waited.toFixed(1)} ms` +
        (process.env.CPU ? `  redis main-thread cpu ${redisUsed.toFixed(0)} µs (2 INFO included)` : '') +
        `  gc: ${inside.map((g) => `${g.duration.toFixed(2)}ms`).join(',') || '-'}` +
        (monitor ? `  redis: ${[...commands].map(([c, n]) => `${c}=${n}`).join(' ')}` : ''),
    )
    commands.clear()
  }
}
for (const e of live) {
  const s = e.times.slice().sort((a, b) => a - b)
  console.log(
    `${e.name.padEnd(9)} median ${s[s.length >> 1]!.toFixed(1)} µs  min ${s[0]!.toFixed(1)}  max ${s.at(-1)!.toFixed(1)}`,
  )
  await e.adapter.close()
}
await control.quit()
if (process.env.WINDOWS) writeFileSync(process.env.WINDOWS, JSON.stringify(windows))
process.exit(0)

// Alternates warm-load runs (the bench's worker-thread keep-alive client, 32 in flight) over servers that
// already run, and prints for each the median requests/s and the median server CPU time per request
// (utime + stime of the server's process from /proc, so other work on the machine does not count), with
// each one's ratio to the first target measured in the same rounds.
// node src/probe/http-ab.ts ROUNDS MS label=pid:port/path ...   (pid 0: no CPU time)
import { readFileSync } from 'node:fs'
import { LoadClient } from '../http-load.ts'

const [roundsArg, msArg, ...specs] = process.argv.slice(2)
const rounds = Number(roundsArg ?? 9)
const durationMs = Number(msArg ?? 300)
const TICKS_PER_MS = 0.1 // USER_HZ 100
const cpuMs = (pid: number) => {
  if (!pid) return 0
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_MS
}
const targets = specs.map((spec) => {
  const label = spec.slice(0, spec.indexOf('='))
  const rest = spec.slice(spec.indexOf('=') + 1)
  const colon = rest.indexOf(':')
  const [pid, where] = colon === -1 ? ['0', rest] : [rest.slice(0, colon), rest.slice(colon + 1)]
  const slash = where.indexOf('/')
  return {
    label,
    pid: Number(pid),
    port: Number(where.slice(0, slash)),
    path: where.slice(slash),
    rps: [] as number[],
    cpu: [] as number[],
  }
})
const client = new LoadClient()
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN
const rpsRatios = targets.map(() => [] as number[])
const cpuRatios = targets.map(() => [] as number[])
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? targets : [...targets].reverse()
  for (const t of order) {
    await client.run({
      port: t.port,
      path: t.path,
      concurrency: 32,
      warmupMs: 100,
      durationMs: 50,
      maxRequests: 1e6,
    })
    const before = cpuMs(t.pid)
    const r = await client.run({
      port: t.port,
      path: t.path,
      concurrency: 32,
      warmupMs: 0,
      durationMs,
      maxRequests: 1e7,
    })
    const used = cpuMs(t.pid) - before
    if (r.errors) throw new Error(`${t.label}: ${r.errors} errors (${r.firstError})`)
    t.rps.push(1e9 / r.nsPerRequest)
    t.cpu.push((used * 1000) / r.requests)
  }
  const first = targets[0] as (typeof targets)[number]
  targets.forEach((t, i) => {
    rpsRatios[i]?.push((t.rps.at(-1) as number) / (first.rps.at(-1) as number))
    cpuRatios[i]?.push((t.cpu.at(-1) as number) / (first.cpu.at(-1) as number))
  })
}
for (const [i, t] of targets.entries()) {
  console.log(
    `${t.label.padEnd(16)} ${median(t.rps).toFixed(0).padStart(6)} req/s (x${median(rpsRatios[i] as number[]).toFixed(3)})` +
      (t.pid
        ? `  server CPU ${median(t.cpu).toFixed(1).padStart(6)} us/req (x${median(cpuRatios[i] as number[]).toFixed(3)})`
        : ''),
  )
}
await client.close()

// Several getOrSet-miss variants alternating one operation at a time in one process, each on its own
// Redis connection: medians (robust to bursts of load) and means (what the bench's batches measure,
// amortized background work included), each as a ratio to raw GET + SET PX measured in the same loop.
// node --expose-gc --conditions=@cachestack/source src/probe/miss-multi.ts [n] [variants...]
// variants: raw get cs cs-wb cs2 cs2-wb cs2-ref bento bento2 (1 = memory only, 2 = memory + Redis, ref = values: 'reference')
import { CacheStack, MemoryLayer, RedisLayer } from '@cachestack/core'
import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { redisDriver } from 'bentocache/drivers/redis'
import { Redis } from 'ioredis'
import { makeValue } from '../value.ts'

const n = Number(process.argv[2] ?? 5000)
const names = process.argv.length > 3 ? process.argv.slice(3) : ['raw', 'get', 'cs', 'cs-wb', 'bento']
const port = Number(process.env.PROBE_REDIS_PORT ?? 6391)
const value = makeValue(7)
const factory = async () => value
const ttl = 600_000
type Op = (key: string) => Promise<unknown>
const closers: (() => Promise<unknown>)[] = []

async function client(): Promise<Redis> {
  const c = new Redis({ port })
  await c.ping()
  closers.push(() => c.quit())
  return c
}

async function make(name: string): Promise<Op> {
  if (name === 'raw' || name === 'get') {
    const c = await client()
    if (name === 'get') return (k) => c.get(k)
    return async (k) => {
      const r = await c.get(k)
      if (r === null) await c.set(k, JSON.stringify(await factory()), 'PX', ttl)
    }
  }
  if (name.startsWith('cs')) {
    const c = await client()
    const layers: any[] = []
    if (name.startsWith('cs2') || name.startsWith('cs1'))
      layers.push(
        new MemoryLayer({ maxItems: 1_000_000, values: name.includes('ref') ? 'reference' : 'frozen-copy' }),
      )
    if (!name.startsWith('cs1')) layers.push(new RedisLayer({ client: c, prefix: `${name}:` }))
    const cache = new CacheStack(layers, {
      ttl,
      ...(name.endsWith('-wb') ? { writeStrategy: 'write-behind' } : {}),
    })
    closers.unshift(() => cache.disconnect())
    return (k) => cache.getOrSet(k, factory)
  }
  const store = bentostore({ prefix: name })
  if (name === 'bento2') store.useL1Layer(memoryDriver({ maxItems: 1_000_000 }))
  store.useL2Layer(redisDriver({ connection: { port } }))
  const bento = new BentoCache({ default: 'x', stores: { x: store }, ttl })
  const cache = bento.use('x')
  closers.unshift(() => bento.disconnectAll())
  return (k) => cache.getOrSet({ key: k, factory })
}

const ops = await Promise.all(names.map(make))
const times = names.map(() => new Float64Array(n))
// CPU time (user + system) of this process spent while each variant's operation was awaited.
const cpu = names.map(() => 0)
let seq = 0
const once = async (v: number) => {
  const key = `mm:${seq++}`
  const c = process.cpuUsage()
  const t = performance.now()
  await ops[v]!(key)
  const elapsed = performance.now() - t
  const used = process.cpuUsage(c)
  cpu[v]! += used.user + used.system
  return elapsed
}
for (let i = 0; i < 1000; i++) for (let v = 0; v < ops.length; v++) await once(v)
cpu.fill(0)
for (let i = 0; i < n; i++) {
  // Rotated order, so no variant always follows the same one.
  for (let j = 0; j < ops.length; j++) {
    const v = (i + j) % ops.length
    times[v]![i] = await once(v)
  }
}
const median = (a: Float64Array) => a.slice().sort()[a.length >> 1]! * 1000
const mean = (a: Float64Array) => (a.reduce((s, x) => s + x, 0) / a.length) * 1000
const rawAt = names.indexOf('raw')
for (let v = 0; v < names.length; v++) {
  const m = median(times[v]!)
  const a = mean(times[v]!)
  const ratio =
    rawAt < 0
      ? ''
      : `  ratio p50 ${(m / median(times[rawAt]!)).toFixed(3)}, mean ${(a / mean(times[rawAt]!)).toFixed(3)}`
  const c = cpu[v]! / n
  const cpuRatio = rawAt < 0 ? '' : `, cpu ${(c / (cpu[rawAt]! / n)).toFixed(3)}`
  console.log(
    `${names[v]!.padEnd(8)} p50 ${m.toFixed(1).padStart(6)} µs  mean ${a.toFixed(1).padStart(6)} µs  cpu ${c.toFixed(1).padStart(6)} µs${ratio}${cpuRatio}`,
  )
}
for (const close of closers) await close()
process.exit(0)

import { CacheStack, MemoryLayer } from '@cachestack/core'
import { describeRequest, ResponseCache } from '@cachestack/core/http'
const cache = new CacheStack([new MemoryLayer()], { ttl: '10m' })
const engine = new ResponseCache<unknown, unknown>({ cache })
const headers = { host: '127.0.0.1:3000', connection: 'keep-alive' }
const body = Buffer.from(JSON.stringify({ a: 'x'.repeat(900) }))
const mk = () => describeRequest({ method: 'GET', target: '/cachestack', headers, origin: 'http://127.0.0.1:3000', raw: {} })
const handlers = {
  produce: async () => ({ kind: 'captured' as const, response: { status: 200, headers: [['content-type', 'application/json; charset=utf-8']] as [string, string][], body }, res: {} }),
}
await engine.serve(mk(), handlers)
const N = Number(process.argv[2] ?? 200000)
for (let round = 0; round < 5; round++) {
  const t0 = performance.now()
  for (let i = 0; i < N; i++) {
    const info = mk()
    engine.refreshRole(info)
    engine.decide(info)
    const out = await engine.serve(info, handlers)
    if (out.action !== 'send') throw new Error('not a hit')
  }
  console.log(`${(((performance.now() - t0) * 1000) / N).toFixed(2)} us per hit (describe+role+decide+serve)`)
}

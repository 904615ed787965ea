import { afterEach, describe, expect, it } from 'vitest'
import { CacheStack } from '../cache-stack.ts'
import { roundMs, sampleHit } from './metrics.ts'

const stacks: CacheStack[] = []
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((cache) => cache.disconnect()))
})

/** At most 3 significant digits. */
function readable(ms: number): boolean {
  return ms === 0 || Number(ms.toPrecision(3)) === ms
}

describe('readable numbers in getStats() and healthCheck() (issue 10)', () => {
  it('p50/p99 mean something after a handful of in-memory hits, and say how many samples they rest on', async () => {
    const cache = new CacheStack()
    stacks.push(cache)
    await cache.set('k', 1)
    for (let i = 0; i < 5; i++) await cache.get('k')
    const [memory] = cache.getStats().layers
    expect(memory!.samples).toBe(5)
    expect(memory!.p50).toBeGreaterThan(0)
    expect(memory!.p99).toBeGreaterThanOrEqual(memory!.p50)
    expect(readable(memory!.p50) && readable(memory!.p99)).toBe(true)
  })

  it('hitRate is rounded to 4 decimals; healthCheck latencies to 3 significant digits', async () => {
    const cache = new CacheStack()
    stacks.push(cache)
    await cache.set('k', 1)
    await cache.get('k')
    await cache.get('k')
    await cache.get('absent')
    expect(cache.getStats().hitRate).toBe(0.6667)
    for (const health of await cache.healthCheck()) expect(readable(health.latency)).toBe(true)
  })

  it('the sampling rule and the rounding', () => {
    expect([1, 2, 16, 17, 32, 48, 63, 64, 128].map(sampleHit)).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
      false,
      true,
      true,
    ])
    expect(roundMs(0.000412345)).toBe(0.000412)
    expect(roundMs(12.3456)).toBe(12.3)
    expect(roundMs(1234.5)).toBe(1230)
    expect(roundMs(0)).toBe(0)
  })
})

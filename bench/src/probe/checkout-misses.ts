// What the probes comparing checkouts of core share: one getOrSet-miss operation per checkout (a stack on
// its own client, Redis only or memory + Redis, write-through or write-behind), then the raw floor, a
// GET and, on nil, a SET PX of the same JSON. Every call uses a key never used before.
import { Redis } from 'ioredis'

export interface CheckoutMisses {
  /** `[name, op]`: one per directory, in order, then `raw GET + SET PX` last. */
  modes: [string, () => Promise<unknown>][]
  close(): Promise<void>
}

export async function checkoutMisses(
  dirs: readonly string[],
  value: unknown,
  options: { port: number; twoTier?: boolean; writeBehind?: boolean },
): Promise<CheckoutMisses> {
  const { port } = options
  const factory = async () => value
  // Keys unique to this run: a key left by an earlier run would turn a miss into a hit.
  const run = Date.now().toString(36)
  let seq = 0
  const modes: [string, () => Promise<unknown>][] = []
  const closers: (() => Promise<void>)[] = []
  for (const [n, dir] of dirs.entries()) {
    const core = await import(`${dir}/src/index.ts`)
    const client = new Redis({ port })
    const layers = [new core.RedisLayer({ client, prefix: `co${n}:` })]
    if (options.twoTier) layers.unshift(new core.MemoryLayer({ maxItems: 1_000_000 }))
    const stack = new core.CacheStack(layers, {
      ttl: 600_000,
      ...(options.writeBehind ? { writeStrategy: 'write-behind' } : {}),
    })
    modes.push([dir, () => stack.getOrSet(`${run}:${seq++}`, factory)])
    closers.push(async () => {
      await stack.disconnect()
      client.disconnect()
    })
  }
  const raw = new Redis({ port })
  closers.push(async () => raw.disconnect())
  modes.push([
    'raw GET + SET PX',
    async () => {
      const k = `r:${run}:${seq++}`
      if ((await raw.get(k)) === null) await raw.set(k, JSON.stringify(value), 'PX', 600_000)
    },
  ])
  return {
    modes,
    async close() {
      for (const close of closers) await close()
    },
  }
}

import { tracingChannel } from 'node:diagnostics_channel'
import { afterEach, describe, expect, it } from 'vitest'
import { CacheStack } from '../cache-stack.ts'
import { MemoryLayer } from '../layers/memory-layer.ts'
import { createManualClock } from '../testing/index.ts'
import type { CacheEventName } from './events.ts'
import { OPERATION_CHANNEL } from './tracing.ts'

const stacks: CacheStack[] = []
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((cache) => cache.disconnect()))
})

describe('one meaning of key in events and tracing (issue 10)', () => {
  it('with generation on and a namespace, every event and trace names the same visible key', async () => {
    const clock = createManualClock(1_700_000_000_000)
    const root = new CacheStack([new MemoryLayer({ name: 'l1' }), new MemoryLayer({ name: 'l2' })], {
      generation: 1,
      clock,
      ttl: 1_000,
      staleWhileRevalidate: 10_000,
    })
    stacks.push(root)
    await root.ready()
    const users = root.namespace('users')
    const seen: string[] = []
    const events: CacheEventName[] = [
      'hit',
      'miss',
      'set',
      'delete',
      'expire',
      'backfill',
      'refresh',
      'stale-serve',
    ]
    for (const name of events)
      root.on(name, (payload) => seen.push(`${name} ${(payload as { key: string }).key}`))
    const traced: string[] = []
    const channel = tracingChannel<unknown, { operation: string; key?: string }>(OPERATION_CHANNEL)
    const handlers = {
      start: (context: { operation: string; key?: string }) => {
        if (context.key !== undefined) traced.push(`${context.operation} ${context.key}`)
      },
    }
    channel.subscribe(handlers as never)
    try {
      await users.get('1') // miss
      await users.set('1', 'a') // set
      await users.get('1') // hit (L1 fast path)
      await root.bumpGeneration() // generation 2: keys are stored under another prefix now
      await users.set('1', 'b')
      await users.get('1')
      clock.advance(2_000)
      await users.getOrSet('1', async () => 'c') // stale-serve + refresh
      await users.expire('1')
      await users.delete('1')
    } finally {
      channel.unsubscribe(handlers as never)
    }
    const keys = new Set([...seen, ...traced].map((line) => line.split(' ')[1]))
    expect(keys).toEqual(new Set(['users:1']))
    for (const name of ['miss', 'set', 'hit', 'stale-serve', 'refresh', 'expire', 'delete']) {
      expect(seen, name).toContain(`${name} users:1`)
    }
    expect(traced).toContain('get users:1')
  })
})

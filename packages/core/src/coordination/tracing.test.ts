import { tracingChannel } from 'node:diagnostics_channel'
import { afterEach, describe, expect, it } from 'vitest'
import { CacheStack } from '../cache-stack.ts'
import { OPERATION_CHANNEL, type OperationContext } from '../stack/tracing.ts'

const channel = tracingChannel<unknown, OperationContext>(OPERATION_CHANNEL)
const noop = () => {}
const cleanups: (() => void)[] = []
afterEach(() => {
  for (const stop of cleanups.splice(0)) stop()
})

describe('coordination on cachestack:operation', () => {
  it('publishes lock, unlock and rateLimit once per call, namespaced, a refusal as an error', async () => {
    const cache = new CacheStack().namespace('app')
    const ended: { operation: string; key: string | undefined }[] = []
    const failed: string[] = []
    const handlers = {
      start: noop,
      end: noop,
      asyncStart: noop,
      asyncEnd: (m: OperationContext) => void ended.push({ operation: m.operation, key: m.key }),
      error: (m: OperationContext) => void failed.push(m.operation),
    }
    channel.subscribe(handlers)
    cleanups.push(() => channel.unsubscribe(handlers))
    const held = await cache.lock('a', { ttl: '1m' })
    await cache.withLock('b', () => 1, { ttl: '1m' })
    await cache.acquire('c', 'me', 1_000)
    await cache.release('c', 'me')
    await cache.rateLimit({ key: 'r', limit: 1, window: '1m' })
    await expect(cache.withLock('a', () => 1, { ttl: '1m' })).rejects.toThrow()
    await held.release()
    expect(ended).toEqual([
      { operation: 'lock', key: 'app:a' },
      { operation: 'lock', key: 'app:b' },
      { operation: 'lock', key: 'app:c' },
      { operation: 'unlock', key: 'app:c' },
      { operation: 'rateLimit', key: 'app:r' },
      { operation: 'lock', key: 'app:a' },
    ])
    expect(failed).toEqual(['lock'])
  })
})

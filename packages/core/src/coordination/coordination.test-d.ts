import { describe, expectTypeOf, it } from 'vitest'
import { CacheStack } from '../cache-stack.ts'
import type { HeldLock, Lock } from './lock.ts'
import type { RateLimitResult } from './rate-limit.ts'

const cache = new CacheStack()

describe('coordination types', () => {
  it('withLock answers what the function returns, unwrapped', () => {
    expectTypeOf(cache.withLock('k', () => 1, { ttl: '1s' })).toEqualTypeOf<Promise<number>>()
    expectTypeOf(cache.withLock('k', async () => ({ id: 'a' }), { ttl: '1s' })).toEqualTypeOf<
      Promise<{ id: string }>
    >()
    cache.withLock(
      'k',
      (held) => {
        expectTypeOf(held).toEqualTypeOf<HeldLock>()
        expectTypeOf(held.signal).toEqualTypeOf<AbortSignal>()
      },
      { ttl: '1s' },
    )
  })

  it('lock needs a ttl; rateLimit answers a RateLimitResult', () => {
    expectTypeOf(cache.lock('k', { ttl: '1s' })).toEqualTypeOf<Promise<Lock>>()
    // @ts-expect-error ttl is required
    cache.lock('k', { wait: '1s' })
    // @ts-expect-error onError is 'allow' or 'deny'
    cache.rateLimit({ key: 'k', limit: 1, window: '1s', onError: 'open' })
    expectTypeOf(cache.rateLimit({ key: 'k', limit: 1, window: '1m' })).toEqualTypeOf<
      Promise<RateLimitResult>
    >()
  })
})

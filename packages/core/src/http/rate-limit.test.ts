import { describe, expect, it } from 'vitest'
import { CacheStack } from '../cache-stack.ts'
import { ValidationError } from '../errors.ts'
import { groupAddress, rateLimiter } from './rate-limit.ts'

describe('groupAddress', () => {
  it('keeps IPv4, unwraps IPv4-mapped IPv6 and groups IPv6 by /64', () => {
    expect(groupAddress('203.0.113.9')).toBe('203.0.113.9')
    expect(groupAddress('::ffff:203.0.113.9')).toBe('203.0.113.9')
    expect(groupAddress('2001:db8:85a3:1:8a2e:370:7334:1')).toBe('2001:db8:85a3:1::/64')
    expect(groupAddress('2001:db8:85a3:1::99')).toBe('2001:db8:85a3:1::/64')
    expect(groupAddress('2001:0db8:85a3:0001::1%eth0')).toBe('2001:db8:85a3:1::/64')
    expect(groupAddress('::1')).toBe('0:0:0:0::/64')
    expect(groupAddress(undefined)).toBeUndefined()
    expect(groupAddress('')).toBeUndefined()
  })
})

describe('rateLimiter options', () => {
  const cache = new CacheStack()
  const address = () => '127.0.0.1'

  it('refuses unknown options and bad values at mounting, naming them', () => {
    expect(() => rateLimiter({ cache, limit: 1, window: '1s', windw: 1 } as never, address)).toThrow(
      '"windw" is not an option of rateLimit(); did you mean "window"?',
    )
    expect(() => rateLimiter({ cache, limit: 0, window: '1s' }, address)).toThrow(ValidationError)
    expect(() => rateLimiter({ cache: {} as never, limit: 1, window: '1s' }, address)).toThrow('"cache"')
    expect(() => rateLimiter({ cache, limit: 1, window: '1s', key: 'ip' as never }, address)).toThrow('"key"')
    expect(() => rateLimiter({ cache, limit: 1, window: '1s', policy: 'a\nb' }, address)).toThrow('"policy"')
    expect(() => rateLimiter({ cache, limit: 1, window: '1s', onError: 'open' as never }, address)).toThrow(
      '"onError"',
    )
  })
})

import { describe } from 'vitest'
import { memcachedPrefix, testMemcached } from '../../../../tools/test-memcached.ts'
import { createManualClock, describeLayerContract } from '../testing/index.ts'
import { MemcachedLayer } from './memcached-layer.ts'

describe('MemcachedLayer', () => {
  describeLayerContract(
    'MemcachedLayer (json, injected clock)',
    () => new MemcachedLayer({ servers: testMemcached(), prefix: memcachedPrefix('mc-json') }),
    { clock: createManualClock(Date.now()) },
  )

  describeLayerContract('MemcachedLayer (msgpack + gzip, real clock)', () => {
    return new MemcachedLayer({
      servers: testMemcached(),
      serializer: 'msgpack',
      compression: 'gzip',
      prefix: memcachedPrefix('mc-msgpack'),
    })
  })
})

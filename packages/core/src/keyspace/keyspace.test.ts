import type { Cluster, Redis } from 'ioredis'
import { afterAll, beforeAll } from 'vitest'
import { createTestCluster, createTestRedis, uniquePrefix } from '../../../../tools/test-redis.ts'
import { CacheStack } from '../cache-stack.ts'
import { MemoryLayer } from '../layers/memory-layer.ts'
import { RedisLayer } from '../layers/redis-layer.ts'
import { describeKeyspaceContract } from '../testing/index.ts'

describeKeyspaceContract('memory', (clock) => new CacheStack([new MemoryLayer()], { clock }), {
  clockDrivesExpiry: true,
})

const clients: Record<'redis' | 'cluster', Redis | Cluster | undefined> = {
  redis: undefined,
  cluster: undefined,
}
beforeAll(() => {
  clients.redis = createTestRedis()
  clients.cluster = createTestCluster()
})
afterAll(async () => {
  await Promise.all([clients.redis?.quit(), clients.cluster?.quit()])
})

for (const kind of ['redis', 'cluster'] as const) {
  const prefix = uniquePrefix(`keyspace-${kind}`)
  describeKeyspaceContract(
    kind === 'redis' ? 'Redis' : 'Redis Cluster',
    (clock) =>
      new CacheStack([new MemoryLayer(), new RedisLayer({ client: clients[kind]!, prefix })], { clock }),
    { clockDrivesExpiry: false },
  )
}

// Connections to the real servers that tools/test-services.ts started for this test run.
import { Cluster, Redis } from 'ioredis'

/** URL of the single test Redis (never the developer's 6379). */
export function testRedisUrl(): string {
  const url = process.env.CACHESTACK_TEST_REDIS_URL
  if (!url)
    throw new Error('CACHESTACK_TEST_REDIS_URL is not set: run the tests through the root vitest config')
  return url
}

/** `[{ host, port }]` of the 3-master test cluster. */
export function testClusterNodes(): { host: string; port: number }[] {
  const nodes = process.env.CACHESTACK_TEST_CLUSTER_NODES
  if (!nodes)
    throw new Error('CACHESTACK_TEST_CLUSTER_NODES is not set: run the tests through the root vitest config')
  return nodes.split(',').map((node) => {
    const [host, port] = node.split(':')
    return { host: host ?? '127.0.0.1', port: Number(port) }
  })
}

/** A new client of the single test Redis; the caller quits it. */
export function createTestRedis(): Redis {
  return new Redis(testRedisUrl(), { lazyConnect: false, maxRetriesPerRequest: 1 })
}

/** A new client of the test cluster; the caller quits it. */
export function createTestCluster(): Cluster {
  return new Cluster(testClusterNodes(), { redisOptions: { maxRetriesPerRequest: 1 } })
}

/** A key prefix no other test file uses. */
export function uniquePrefix(label: string): string {
  return `test:${label}:${process.pid}:${Math.random().toString(36).slice(2, 8)}:`
}

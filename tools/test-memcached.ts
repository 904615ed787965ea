// Addresses of the memcached that tools/test-services.ts started for this test run.

/** `host:port` of the test memcached (never a developer's 11211). */
export function testMemcached(): string {
  const address = process.env.CACHESTACK_TEST_MEMCACHED
  if (!address)
    throw new Error('CACHESTACK_TEST_MEMCACHED is not set: run the tests through the root vitest config')
  return address
}

/** A key prefix no other test file uses. */
export function memcachedPrefix(label: string): string {
  return `test:${label}:${process.pid}:${Math.random().toString(36).slice(2, 8)}:`
}

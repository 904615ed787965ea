import type { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createTestRedis, uniquePrefix } from '../../../../tools/test-redis.ts'
import { CacheStack } from '../cache-stack.ts'
import { UnstorableValueError, ValidationError } from '../errors.ts'
import type { CacheLayer } from '../layer.ts'
import { MemoryLayer } from '../layers/memory-layer.ts'
import { RedisLayer } from '../layers/redis-layer.ts'

class Money {
  readonly cents: number
  constructor(cents: number) {
    this.cents = cents
  }
}

let client: Redis
const stacks: CacheStack[] = []
beforeAll(() => {
  client = createTestRedis()
})
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((cache) => cache.disconnect()))
})
afterAll(async () => {
  await client.quit()
})

function stack(layers: CacheLayer[]): CacheStack {
  const cache = new CacheStack(layers)
  stacks.push(cache)
  return cache
}
const redis = (serializer: 'json' | 'msgpack' = 'json') =>
  new RedisLayer({ client, prefix: uniquePrefix('values'), serializer })

async function refusal(run: () => Promise<unknown>): Promise<UnstorableValueError> {
  const error = await run().then(
    () => undefined,
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(UnstorableValueError)
  expect(error).toBeInstanceOf(ValidationError)
  return error as UnstorableValueError
}

describe('one meaning per value, whatever the layer', () => {
  it('refuses a function, a symbol, a class instance and NaN at set, naming key, place and layer — on every stack shape', async () => {
    const shapes: [string, () => CacheLayer[]][] = [
      ['memory', () => [new MemoryLayer()]],
      ['memory + redis', () => [new MemoryLayer(), redis()]],
      ['redis', () => [redis()]],
    ]
    for (const [label, layers] of shapes) {
      const cache = stack(layers())
      const fn = await refusal(() => cache.set('k', { run: () => 1 }))
      expect(fn.message, label).toMatch(
        /^Cannot cache "k": value\.run is a function, which layer "(memory|redis)" cannot store/,
      )
      const sym = await refusal(() => cache.set('k', Symbol('s') as never))
      expect(sym.message, label).toMatch(/the value is a symbol/)
      const money = await refusal(() => cache.set('price', { total: new Money(5) }))
      expect(money.message, label).toMatch(
        /^Cannot cache "price": value\.total is a Money instance, which layer "(memory|redis)" would give back as a plain object, without its class/,
      )
      expect(money.key).toBe('price')
      expect(money.path).toBe('.total')
      // Nothing was written anywhere.
      expect(await cache.get('price')).toBeUndefined()
    }
    const mixed = stack([new MemoryLayer(), redis()])
    const nan = await refusal(() => mixed.set('n', [1, Number.NaN]))
    expect(nan.message).toBe(
      'Cannot cache "n": value[1] is NaN, which layer "redis" would give back as null (see "Values" in docs/core.md)',
    )
    expect(nan.layer).toBe('redis')
  })

  it('a Date is refused when a JSON layer would turn it into a string, kept as a Date with msgpack or in memory', async () => {
    const at = new Date('2026-01-02T03:04:05.000Z')
    const json = stack([new MemoryLayer(), redis('json')])
    const error = await refusal(() => json.set('when', { at }))
    expect(error.message).toBe(
      'Cannot cache "when": value.at is a Date, which layer "redis" would give back as a string (see "Values" in docs/core.md)',
    )
    const msgpackLayer = redis('msgpack')
    const msgpack = stack([new MemoryLayer(), msgpackLayer])
    await msgpack.set('when', { at })
    // Read from Redis itself (a second stack without the memory layer): the same Date comes back.
    const fromRedis = (await stack([msgpackLayer]).get<{ at: Date }>('when'))!
    expect(fromRedis.at).toBeInstanceOf(Date)
    expect(fromRedis.at.getTime()).toBe(at.getTime())
    const memory = stack([new MemoryLayer()])
    await memory.set('m', { tags: new Map([['a', 1]]), at })
    expect(((await memory.get('m')) as { tags: Map<string, number> }).tags.get('a')).toBe(1)
    await expect(msgpack.set('m', new Map())).rejects.toThrow(
      'Cannot cache "m": the value is a Map, which layer "redis" would give back as {}',
    )
  })

  it('namespaces are part of the key named; mset refuses before writing any item; a factory result is checked too', async () => {
    const cache = stack([new MemoryLayer(), redis()])
    const users = cache.namespace('users')
    expect((await refusal(() => users.set('1', { at: new Date() }))).key).toBe('users:1')
    await refusal(() =>
      cache.mset<unknown>([
        { key: 'ok', value: 1 },
        { key: 'bad', value: { big: 10n } },
      ]),
    )
    expect(await cache.get('ok')).toBeUndefined()
    const fromFactory = await refusal(() => cache.getOrSet('made', () => ({ when: new Date() })))
    expect(fromFactory.message).toMatch(/^Cannot cache "made": value\.when is a Date/)
    expect(await cache.get('made')).toBeUndefined()
  })

  it('memory with values: reference keeps anything, class instances included', async () => {
    const cache = stack([new MemoryLayer({ values: 'reference' })])
    const price = new Money(5)
    await cache.set('price', price)
    expect(await cache.get('price')).toBe(price)
  })
})

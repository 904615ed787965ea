import { tracingChannel } from 'node:diagnostics_channel'
import { afterEach, describe, expect, it } from 'vitest'
import { CacheStack } from '../cache-stack.ts'
import { OPERATION_CHANNEL, type OperationContext } from '../stack/tracing.ts'
import { expireIn } from './expiry.ts'

const channel = tracingChannel<unknown, OperationContext>(OPERATION_CHANNEL)
const noop = () => {}
const cleanups: (() => void)[] = []
afterEach(() => {
  for (const stop of cleanups.splice(0)) stop()
})

describe('keyspaces on cachestack:operation', () => {
  it('publishes each operation once as keyspace + command with the namespaced key; bad input as an error', async () => {
    const cache = new CacheStack().namespace('app')
    const ended: {
      operation: string
      command: string | undefined
      key: string | undefined
      result: unknown
    }[] = []
    const failed: string[] = []
    const handlers = {
      start: noop,
      end: noop,
      asyncStart: noop,
      asyncEnd: (m: OperationContext) =>
        void ended.push({ operation: m.operation, command: m.command, key: m.key, result: m.result }),
      error: (m: OperationContext) => void failed.push(`${m.operation}:${m.command}`),
    }
    channel.subscribe(handlers)
    cleanups.push(() => channel.unsubscribe(handlers))
    const counters = cache.keyspace({ kind: 'int', pattern: 'hits/:page', defaultExpiry: expireIn(1_000) })
    await counters.increment({ page: 'home' })
    await counters.get({ page: 'home' })
    const recent = cache.keyspace({ kind: 'stringList', pattern: 'recent/:id' })
    await recent.pushLeft({ id: 1 }, 'a')
    await recent.items({ id: 1 })
    await expect(counters.increment({ page: 'home' }, 0.5)).rejects.toThrow()
    await expect(counters.setIfNotExists({ page: 'home' }, 3)).rejects.toThrow()
    expect(ended).toEqual([
      { operation: 'keyspace', command: 'increment', key: 'app:hits/home', result: 1 },
      { operation: 'keyspace', command: 'get', key: 'app:hits/home', result: 1 },
      { operation: 'keyspace', command: 'pushLeft', key: 'app:recent/1', result: 1 },
      { operation: 'keyspace', command: 'getRange', key: 'app:recent/1', result: ['a'] },
      { operation: 'keyspace', command: 'increment', key: 'app:hits/home', result: undefined },
      { operation: 'keyspace', command: 'setIfNotExists', key: 'app:hits/home', result: undefined },
    ])
    expect(failed).toEqual(['keyspace:increment', 'keyspace:setIfNotExists'])
  })
})

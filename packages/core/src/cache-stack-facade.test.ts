import { afterEach, describe, expect, it } from 'vitest'
import { CacheStack } from './cache-stack.ts'

const stacks: CacheStack[] = []
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((cache) => cache.disconnect()))
})

describe('CacheStack facade and its namespace views', () => {
  it('namespace views are CacheStacks to callers and share the root state', async () => {
    const root = new CacheStack()
    stacks.push(root)
    const users = root.namespace('users')
    const admins = users.namespace('admins')
    expect(users).toBeInstanceOf(CacheStack)
    expect(admins).toBeInstanceOf(CacheStack)
    expect(admins.prefix).toBe('users:admins:')
    await admins.set('1', 'ada')
    expect(await root.get('users:admins:1')).toBe('ada')
    expect(root.getStats().sets).toBe(1)
    expect(await users.ready()).toBeUndefined()
  })

  it('keeps the default instanceof for subclasses', () => {
    class AppCache extends CacheStack {}
    const plain = new CacheStack()
    const app = new AppCache()
    stacks.push(plain, app)
    expect(app).toBeInstanceOf(AppCache)
    expect(app).toBeInstanceOf(CacheStack)
    expect(plain instanceof AppCache).toBe(false)
    expect(plain.namespace('x') instanceof AppCache).toBe(false)
    expect({} instanceof CacheStack).toBe(false)
  })
})

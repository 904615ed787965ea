import { execFileSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const src = dirname(dirname(fileURLToPath(import.meta.url)))

/** Imports core in a fresh Node process and lists which ioredis files it loaded. */
function ioredisFilesLoadedBy(script: string): string[] {
  const child = `
    import { registerHooks } from 'node:module'
    const loaded = []
    registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context) } })
    ${script}
    console.log(JSON.stringify(loaded.filter((url) => url.includes('/node_modules/ioredis/'))))
  `
  const out = execFileSync(process.execPath, ['--input-type=module', '--eval', child], {
    cwd: src,
    encoding: 'utf8',
  })
  return JSON.parse(out.trim().split('\n').at(-1)!) as string[]
}

describe('ioredis is loaded only by apps that use Redis', () => {
  it('a memory-only app imports @cachestack/core without loading ioredis', () => {
    const files = ioredisFilesLoadedBy(`
      const core = await import(${JSON.stringify(join(src, 'index.ts'))})
      const cache = new core.CacheStack()
      await cache.set('k', 1)
      if ((await cache.get('k')) !== 1) throw new Error('no hit')
      await cache.disconnect()
    `)
    expect(files).toEqual([])
  })

  it('loads it the moment a Redis client is created (so the check above can see it)', () => {
    const files = ioredisFilesLoadedBy(`
      const { ioredis } = await import(${JSON.stringify(join(src, 'internal', 'ioredis.ts'))})
      if (typeof ioredis().Redis !== 'function') throw new Error('no Redis class')
    `)
    expect(files.length).toBeGreaterThan(0)
  })
})

import { execFileSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const src = dirname(dirname(fileURLToPath(import.meta.url)))

/** Runs `script` in a fresh Node process and lists which memjs files it loaded. */
function memjsFilesLoadedBy(script: string): string[] {
  const child = `
    import { registerHooks } from 'node:module'
    const loaded = []
    registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context) } })
    ${script}
    console.log(JSON.stringify(loaded.filter((url) => url.includes('/node_modules/memjs/'))))
  `
  const out = execFileSync(process.execPath, ['--input-type=module', '--eval', child], {
    cwd: src,
    encoding: 'utf8',
  })
  return JSON.parse(out.trim().split('\n').at(-1)!) as string[]
}

describe('memjs is loaded only by apps that create a MemcachedLayer client', () => {
  it('a memory-only app imports @cachestack/core without loading memjs', () => {
    const files = memjsFilesLoadedBy(`
      const core = await import(${JSON.stringify(join(src, 'index.ts'))})
      if (typeof core.MemcachedLayer !== 'function') throw new Error('MemcachedLayer not exported')
      const cache = new core.CacheStack()
      await cache.set('k', 1)
      if ((await cache.get('k')) !== 1) throw new Error('no hit')
      await cache.disconnect()
    `)
    expect(files).toEqual([])
  })

  it('loads it the moment a layer creates its client (so the check above can see it)', () => {
    const files = memjsFilesLoadedBy(`
      const { MemcachedLayer } = await import(${JSON.stringify(join(src, 'index.ts'))})
      const layer = new MemcachedLayer({ servers: '127.0.0.1:9' })
      await layer.dispose()
    `)
    expect(files.length).toBeGreaterThan(0)
  })
})

import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

// Runs the example as a user would (`TRACING=1 npm start`) and reads what it prints.
it('TRACING=1 prints a MISS with the database span beneath the cache span, then a HIT without one', async () => {
  const main = fileURLToPath(new URL('./main.ts', import.meta.url))
  const child = spawn(process.execPath, ['--conditions=@cachestack/source', main], {
    env: { ...process.env, TRACING: '1', PORT: '0', REDIS_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk) => {
    output += chunk
  })
  child.stderr.on('data', (chunk) => {
    output += chunk
  })
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', () => output.includes('Ctrl+C') && resolve())
      child.once('exit', (code) => reject(new Error(`example exited (${code}):\n${output}`)))
    })
  } finally {
    child.kill('SIGTERM')
  }
  const [miss, hit] = output.split('\nGET /posts/1 — ').slice(1)
  // Indentation is the tree: server span, cache.get under it, db.query under that.
  expect(miss).toMatch(/\n {2}GET .*cache\.status=miss\n {4}cache\.get .*cache\.hit=false\n {6}db\.query /)
  expect(hit).toMatch(
    /\n {2}GET .*cache\.status=hit\n {4}cache\.get .*cache\.hit=true.*cache\.layer=memory\n/,
  )
  expect(hit).not.toContain('db.query')
}, 30_000)

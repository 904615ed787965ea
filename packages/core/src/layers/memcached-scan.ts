import { connect } from 'node:net'
import { CommandTimeoutError } from '../errors.ts'

const BUSY_RETRY_MS = 25
const BUSY_LIMIT_MS = 10_000

/**
 * Lists every key one memcached server holds, with `lru_crawler metadump all` (memcached >= 1.4.31, on by
 * default since 1.5): memcached has no SCAN, and the LRU crawler is the one way to walk its keys without
 * stopping the server. It runs on a separate text-protocol connection (memjs speaks the binary protocol,
 * which has no such command). Only one crawl runs at a time per server: a BUSY answer is retried.
 * `idleTimeout` bounds the wait for each chunk of output, not the whole walk.
 */
export async function dumpKeys(host: string, port: number, idleTimeout: number): Promise<string[]> {
  const deadline = Date.now() + BUSY_LIMIT_MS
  while (true) {
    const result = await dumpOnce(host, port, idleTimeout)
    if (result !== 'busy') return result
    if (Date.now() > deadline) throw new Error('memcached: the LRU crawler stayed busy')
    await new Promise((resolve) => setTimeout(resolve, BUSY_RETRY_MS))
  }
}

function dumpOnce(host: string, port: number, idleTimeout: number): Promise<string[] | 'busy'> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port })
    const keys: string[] = []
    let rest = ''
    let settled = false
    const finish = (error: Error | undefined, value?: string[] | 'busy') => {
      if (settled) return
      settled = true
      socket.destroy()
      if (error) reject(error)
      else resolve(value!)
    }
    socket.setTimeout(idleTimeout, () => finish(new CommandTimeoutError(idleTimeout, 'memcached')))
    socket.on('error', (error) => finish(error))
    socket.on('close', () => finish(new Error('memcached closed the connection during lru_crawler metadump')))
    socket.on('connect', () => socket.write('lru_crawler metadump all\r\n'))
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      rest += chunk
      let end = rest.indexOf('\n')
      while (end !== -1) {
        const line = rest.slice(0, end).replace(/\r$/, '')
        rest = rest.slice(end + 1)
        if (line === 'END') return finish(undefined, keys)
        if (line.startsWith('BUSY')) return finish(undefined, 'busy')
        if (line.startsWith('key=')) {
          const space = line.indexOf(' ')
          keys.push(decodeURIComponent(line.slice(4, space === -1 ? undefined : space)))
        } else if (line.includes('ERROR')) {
          return finish(new Error(`memcached refused lru_crawler metadump: ${line}`))
        }
        end = rest.indexOf('\n')
      }
    })
  })
}

import { describe, expect, it } from 'vitest'
import { refreshRole, runRefresh } from './refresh.ts'

const captured = {
  kind: 'captured' as const,
  response: { status: 200, headers: [], body: new Uint8Array() },
  res: null,
}

describe('refreshRole', () => {
  it('delivers a refresh that reached the application at the same origin', async () => {
    const owner = {}
    const run = runRefresh(
      owner,
      (headers) => {
        const role = refreshRole(owner, headers['x-cachestack-refresh'], 'https://www.example')
        if (role.role === 'owner') role.deliver(captured)
      },
      1_000,
      undefined,
      'https://www.example',
    )
    await expect(run).resolves.toBe(captured)
  })

  it('never lets a refresh answered at another origin be stored under the original key', async () => {
    const owner = {}
    const run = runRefresh(
      owner,
      (headers) => {
        // The framework did not trust the copy and placed it at the internal host.
        const role = refreshRole(owner, headers['x-cachestack-refresh'], 'http://127.0.0.1:3000')
        expect(role.role).toBe('owner')
        if (role.role === 'owner') role.deliver(captured)
      },
      1_000,
      undefined,
      'https://www.example',
    )
    await expect(run).resolves.toEqual({ kind: 'streamed', reason: 'refresh-origin' })
  })
})

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'
import { createManualClock, describeLayerContract } from '../testing/index.ts'
import { DiskLayer } from './disk-layer.ts'

const root = mkdtempSync(join(tmpdir(), 'cachestack-disk-contract-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
let made = 0
const freshDirectory = () => join(root, `layer-${++made}`)

describeLayerContract('DiskLayer (json, fake clock)', () => new DiskLayer({ directory: freshDirectory() }), {
  clock: createManualClock(),
})

describeLayerContract(
  'DiskLayer (msgpack, bounded, fake clock)',
  () =>
    new DiskLayer({ directory: freshDirectory(), serializer: 'msgpack', maxFiles: 5_000, maxBytes: '256mb' }),
  { clock: createManualClock() },
)

describeLayerContract('DiskLayer (json, real clock)', () => new DiskLayer({ directory: freshDirectory() }))

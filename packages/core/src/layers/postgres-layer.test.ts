import { describe } from 'vitest'
import { createManualClock, describeLayerContract } from '../testing/layer-contract.ts'
import { PostgresLayer } from './postgres-layer.ts'

const url = process.env.CACHESTACK_TEST_POSTGRES_URL!

describe('PostgresLayer', () => {
  describeLayerContract(
    'PostgresLayer',
    () => new PostgresLayer({ connectionString: url, table: 'contract_entries' }),
    { clock: createManualClock() },
  )
  // Expiry on the real clock too: the layer compares expires_at with the stack's clock, not the server's.
  describeLayerContract(
    'PostgresLayer on the system clock',
    () => new PostgresLayer({ connectionString: url, table: 'contract_entries_real_clock' }),
  )
})

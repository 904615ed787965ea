import { describe } from 'vitest'
import { createManualClock, describeLayerContract } from '../testing/layer-contract.ts'
import { PostgresLayer } from './postgres-layer.ts'

const url = process.env.CACHESTACK_TEST_POSTGRES_URL!

describe('PostgresLayer', () => {
  describeLayerContract(
    'PostgresLayer',
    () => new PostgresLayer({ connectionString: url, table: 'contract_entries' }),
    {
      clock: createManualClock(),
    },
  )
})

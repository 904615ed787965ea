export type { AdvanceableClock, LayerContractOptions } from './layer-contract.ts'
export { createManualClock, createTestEntry, describeLayerContract } from './layer-contract.ts'

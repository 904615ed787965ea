export type { AdvanceableClock, LayerContractOptions } from './layer-contract.ts'
export { createManualClock, describeLayerContract } from './layer-contract.ts'

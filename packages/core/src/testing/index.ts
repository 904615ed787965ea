export type { HealthContractOptions, HealthHarness, PausableRedis } from './health-contract.ts'
export { describeHealthRouteContract } from './health-contract.ts'
export type { HttpAdapterContractOptions } from './http-adapter-contract.ts'
export { describeHttpAdapterContract } from './http-adapter-contract.ts'
export type { ClientKind, ClientResponse, ContractClient } from './http-clients.ts'
export { CLIENT_KINDS, openClient, REQUEST_TIMEOUT_MS } from './http-clients.ts'
export type { CaseAnswer, CaseContext, CaseSpec } from './http-contract-app.ts'
export { chunksOf, queryParam, startCase } from './http-contract-app.ts'
export type {
  ContractAnswer,
  ContractApp,
  ContractRequest,
  HttpAdapterHarness,
  OpenApp,
  StartedApp,
} from './http-harness.ts'
export { openApp } from './http-harness.ts'
export type { FrameworkView, PoisonableApp, PoisoningHarness, PoisoningVector } from './http-poisoning.ts'
export { describeHttpPoisoningContract, POISONING_VECTORS, renderPage } from './http-poisoning.ts'
export type { RawRequest } from './http-raw-client.ts'
export { RawHttpClient } from './http-raw-client.ts'
export { describeKeyspaceContract } from './keyspace-contract.ts'
export type { AdvanceableClock, LayerContractOptions } from './layer-contract.ts'
export { createManualClock, createTestEntry, describeLayerContract } from './layer-contract.ts'
export type { RateLimitHarness } from './rate-limit-contract.ts'
export { describeRateLimitContract, harnessHeader } from './rate-limit-contract.ts'

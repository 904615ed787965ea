export type { CapturedAnswer, CollectedBody, PendingAnswer } from './body.ts'
export { captureAnswer, collectBody, toBytes } from './body.ts'
export type { HealthCheckedStore, HealthReport, HealthRouteConfig, LayerReadiness } from './health.ts'
export { DEFAULT_HEALTH_TIMEOUT, healthAnswer, healthResponder, readiness } from './health.ts'
export type { ServerResponseCaptureOptions } from './node-capture.ts'
export { captureServerResponse, discardNextAnswer, writeServerResponse } from './node-capture.ts'
export type { DetachedPeer, NodeRequestHandler } from './node-dispatch.ts'
export { detachedSocket, dispatchDetached } from './node-dispatch.ts'
export type {
  HttpCacheStore,
  HttpEntryOptions,
  HttpFactoryContext,
  NormalizedResponseCacheOptions,
  ResponseCacheOptions,
  TagsOption,
} from './options.ts'
export {
  DEFAULT_MAX_BODY_SIZE,
  DEFAULT_STATUSES,
  normalizeResponseCacheOptions,
} from './options.ts'
export type { BypassReason, NotStoredReason, RequestDecision } from './policy.ts'
export {
  CONDITIONAL_REQUEST_HEADERS,
  decideRequest,
  headersForbidStorage,
  MUTATION_METHODS,
  whyNotStored,
} from './policy.ts'
export type { RateLimitDecision, RateLimitRouteOptions, RateLimitStore } from './rate-limit.ts'
export { DEFAULT_RATE_LIMIT_PREFIX, groupAddress, rateLimiter } from './rate-limit.ts'
export type { HandlerRun, RefreshRole, StreamedReason } from './refresh.ts'
export { REFRESH_HEADER } from './refresh.ts'
export type { CacheState, OutgoingResponse, ReplayContext } from './reply.ts'
export {
  CACHE_STATUS_NAME,
  cacheStatusValue,
  groupHeaders,
  passThroughHeaders,
  replayCaptured,
  replayStored,
} from './reply.ts'
export type { RequestParts } from './request-info.ts'
export { deleteConditionalHeaders, describeRequest, withoutConditionalHeaders } from './request-info.ts'
export type { HttpRequestInfo, RequestKeyParts } from './request-key.ts'
export {
  canonicalQuery,
  encodingVariantKey,
  hashValue,
  normalizeAcceptEncoding,
  QUERY_PARSER_LIMIT,
  requestKey,
} from './request-key.ts'
export type { ResponseCacheConfig, ServeHandlers, ServeOutcome } from './response-cache.ts'
export { DEFAULT_REFRESH_TIMEOUT, DEFAULT_RESPONSE_TTL, ResponseCache } from './response-cache.ts'
export type { StatsRouteConfig } from './stats.ts'
export { isAuthorized, STATS_HEADERS, statsResponder, statsResponse } from './stats.ts'
export type {
  CapturedResponse,
  EncodingVariantMarker,
  HeaderList,
  StoredResponse,
} from './stored-response.ts'
export {
  getHeader,
  headerListFrom,
  ifNoneMatchHits,
  isEncodingVariantMarker,
  isStoredResponse,
  strongEtag,
  toStoredResponse,
  variesOnEncoding,
} from './stored-response.ts'
export type { RewriteReason } from './unkeyed-inputs.ts'
export {
  carriesBody,
  FORWARDING_HEADERS,
  forwardedHostAndProto,
  forwardingKey,
  METHOD_OVERRIDE_HEADERS,
  REWRITE_HEADERS,
  rewriteReason,
} from './unkeyed-inputs.ts'

export { keyHash } from './cache-instrumentation.ts'
export { type InstrumentableCache, instrumentCache } from './instrument-cache.ts'
export { ATTR, METRIC, SCOPE, spanName } from './names.ts'
export type { InstrumentCacheOptions } from './options.ts'

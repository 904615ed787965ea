// What each call of a request did, for `responseMeta`. Keyed by the call's `getRawInput` function: tRPC
// hands the same function object to the procedure (and so to every middleware) and to `responseMeta` in
// `info.calls`, one per call, so a record can never be read for another call, another batch or
// another user. A WeakMap lets each record go with its request.

/** What the cache middleware decided for one call. */
export interface CallRecord {
  /** The answer may be stored by shared caches: a public, fresh, successful cached answer. */
  readonly shareable: boolean
  /** Seconds the answer may be kept (the procedure's `ttl`); `undefined` when unknown. */
  readonly maxAge: number | undefined
}

const records = new WeakMap<object, CallRecord>()

/** Records what the cache middleware did for the call identified by `getRawInput`. */
export function recordCall(getRawInput: unknown, record: CallRecord): void {
  if (typeof getRawInput === 'function') records.set(getRawInput, record)
}

/** The record of one call, `undefined` when no cache middleware ran for it. */
export function callRecord(getRawInput: unknown): CallRecord | undefined {
  return typeof getRawInput === 'function' ? records.get(getRawInput) : undefined
}

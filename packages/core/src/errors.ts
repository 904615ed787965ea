/** Base class of every error cachestack throws; `code` is stable across releases. */
export class CacheError extends Error {
  readonly code: string
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** Thrown by `getOrThrow` and `replace` when the key holds no value. */
export class CacheMissError extends CacheError {
  readonly key: string
  constructor(key: string) {
    super('E_CACHE_MISS', `No cached value for key "${key}"`)
    this.key = key
  }
}

/** The factory (fetcher) threw or called `ctx.fail()`; every waiter of the same call gets this same instance. */
export class FactoryError extends CacheError {
  readonly key: string
  readonly isBackground: boolean
  constructor(key: string, cause: unknown, isBackground = false) {
    super('E_FACTORY_ERROR', `Factory for key "${key}" failed: ${describe(cause)}`, { cause })
    this.key = key
    this.isBackground = isBackground
  }
}

/** The factory did not answer within `hardTimeout`. */
export class FactoryTimeoutError extends CacheError {
  readonly key: string
  readonly timeout: number
  constructor(key: string, timeout: number) {
    super('E_FACTORY_TIMEOUT', `Factory for key "${key}" did not answer within ${timeout} ms`)
    this.key = key
    this.timeout = timeout
  }
}

/** A layer (Redis, memcached, disk...) failed an operation. */
export class LayerError extends CacheError {
  readonly layer: string
  constructor(layer: string, operation: string, cause: unknown) {
    super('E_LAYER_ERROR', `Layer "${layer}" failed to ${operation}: ${describe(cause)}`, { cause })
    this.layer = layer
  }
}

/** A Redis or memcached command did not answer within the layer's `commandTimeout` (the `cause` of a `LayerError`). */
export class CommandTimeoutError extends CacheError {
  readonly timeout: number
  constructor(timeout: number, server = 'Redis') {
    super('E_COMMAND_TIMEOUT', `${server} did not answer within ${timeout} ms`)
    this.timeout = timeout
  }
}

/** A value larger than the server accepts for one item (memcached's `-I`); the `cause` of a `LayerError`. */
export class ItemTooLargeError extends CacheError {
  readonly key: string
  /** Size of the payload that was refused, in bytes. */
  readonly size: number
  constructor(key: string, size: number, cause?: unknown) {
    super(
      'E_ITEM_TOO_LARGE',
      `The entry for "${key}" (${size} bytes) is larger than the server's item size`,
      {
        cause,
      },
    )
    this.key = key
    this.size = size
  }
}

/**
 * Redis is known to be unreachable (connection lost, or an earlier command still unanswered), so the
 * command was not sent: it fails at once instead of waiting (the `cause` of a `LayerError`).
 */
export class RedisUnavailableError extends CacheError {
  constructor(reason: string, cause?: unknown) {
    super('E_REDIS_UNAVAILABLE', `Redis is unavailable: ${reason}`, { cause })
  }
}

/** The bus could not subscribe (or publish) in time; `ready()` rejects with it while Redis is away. */
export class BusError extends CacheError {
  constructor(message: string, cause?: unknown) {
    super('E_BUS_ERROR', message, { cause })
  }
}

/** The circuit breaker guarding a factory is open. */
export class CircuitOpenError extends CacheError {
  readonly key: string
  readonly retryAt: number
  constructor(key: string, retryAt: number) {
    super('E_CIRCUIT_OPEN', `Circuit open for key "${key}" until ${new Date(retryAt).toISOString()}`)
    this.key = key
    this.retryAt = retryAt
  }
}

/** `setIfNotExists` found a value already there. */
export class CacheKeyExistsError extends CacheError {
  readonly key: string
  constructor(key: string) {
    super('E_KEY_EXISTS', `Key "${key}" already holds a value`)
    this.key = key
  }
}

/**
 * A keyspace operation met a key holding another kind of value (a list where a number was expected, a
 * non-number under an `int` key), as Redis answers `WRONGTYPE`; the same in memory.
 */
export class KeyspaceTypeError extends CacheError {
  readonly key: string
  constructor(key: string, detail: string, cause?: unknown) {
    super('E_WRONG_TYPE', `Keyspace key "${key}" ${detail}`, { cause })
    this.key = key
  }
}

/**
 * Bad input: an option, a key, a value or a duration that cannot be used. It is a `TypeError`
 * (as the contract promises for bad keys and durations) with a stable `code`; `option` names what was wrong.
 */
export class ValidationError extends TypeError {
  readonly code = 'E_VALIDATION'
  readonly option: string | undefined
  constructor(message: string, option?: string) {
    super(message)
    this.name = 'ValidationError'
    this.option = option
  }
}

/**
 * `set` (or a factory) produced a value that a layer of the stack cannot store faithfully: a function,
 * a symbol, a class instance, `NaN`, or (depending on the layers and serializer) a Date, Map, Set, byte
 * array or BigInt. Refused before any layer is written, the same whatever layer is the culprit.
 */
export class UnstorableValueError extends ValidationError {
  readonly key: string
  /** Where in the value: `''` for the value itself, `.a.b[2]` inside it. */
  readonly path: string
  /** The first layer that could not hold it. */
  readonly layer: string
  constructor(key: string, path: string, what: string, layer: string, consequence: string) {
    const where = path === '' ? 'the value' : `value${path}`
    super(
      `Cannot cache "${key}": ${where} is ${what}, which layer "${layer}" ${consequence} (see "Values" in docs/core.md)`,
      'value',
    )
    this.name = 'UnstorableValueError'
    this.key = key
    this.path = path
    this.layer = layer
  }
}

/** The stack was disconnected; no further operation is accepted. */
export class DisconnectedError extends CacheError {
  constructor() {
    super('E_DISCONNECTED', 'The cache was disconnected; create a new one to keep caching')
  }
}

/** A snapshot path escapes `snapshotBaseDir` (an absolute path outside it, `../`, a symbolic link pointing out). */
export class SnapshotPathError extends CacheError {
  readonly path: string
  constructor(path: string, reason: string) {
    super('E_SNAPSHOT_PATH', `Snapshot path "${path}" refused: ${reason}`)
    this.path = path
  }
}

/** A snapshot (a file or an `importState` argument) is corrupted, truncated or not a snapshot; nothing was restored. */
export class SnapshotError extends CacheError {
  constructor(message: string, cause?: unknown) {
    super('E_SNAPSHOT_INVALID', message, { cause })
  }
}

function describe(cause: unknown): string {
  if (cause instanceof Error) return cause.message
  return String(cause)
}

/** `withLock` (or `lock` through `withLock`) found the lock held, and still held when its `wait` ran out. */
export class LockNotAcquiredError extends CacheError {
  readonly key: string
  /** How long it waited, in ms (0 without `wait`). */
  readonly waited: number
  constructor(key: string, waited: number) {
    super(
      'E_LOCK_NOT_ACQUIRED',
      waited > 0
        ? `Lock "${key}" is held by another owner and was not released within ${waited} ms`
        : `Lock "${key}" is held by another owner`,
    )
    this.key = key
    this.waited = waited
  }
}

import type { WriteFence } from '../layer.ts'

/** Held by the one instance that runs the factory for a key. */
export interface FlightLease {
  /**
   * Called right before the result is written: false when this instance no longer holds the key (its
   * lease expired and another may have written a newer value), and the result must not be stored.
   */
  confirm(): Promise<boolean>
  /** When present, shared layers that can (`setFenced`) re-check the lease in the same step as the write. */
  readonly fence?: WriteFence
}

/** What the read path hands to a `SingleFlight` for one key. */
export interface SharedWork<T> {
  /** Runs the factory and stores its result (after `lease.confirm()`). */
  compute(lease: FlightLease): Promise<T>
  /** The value another instance stored meanwhile, if the layers now hold a fresh one. */
  landed(): Promise<{ value: T } | undefined>
  /** Fires when the caller gives up (hard timeout, disconnect): stop waiting. */
  signal: AbortSignal
  /**
   * Where the shared layer that fences writes (`setFenced`) stores the value: a lease kept in the same
   * Redis Cluster slot can be checked by that layer in the script that writes. Absent without such a layer.
   */
  storageKey?: string | undefined
}

/**
 * Cross-instance stampede protection (see `RedisSingleFlight`). The in-process dedupe stays in front:
 * only the first caller of a key in a process reaches `run`.
 */
export interface SingleFlight {
  /** Runs `work.compute` here while holding the key, or waits for the instance that does and returns what it landed. */
  run<T>(key: string, work: SharedWork<T>): Promise<T>
  dispose(): Promise<void>
}

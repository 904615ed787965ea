import { ValidationError } from '../errors.ts'
import { assertKnownOptions, optionNames } from '../internal/known-options.ts'
import { type Duration, optionalDuration } from '../internal/units.ts'
import type { Clock } from '../layer.ts'

/** Guards the factory: after `failureThreshold` failures in a row it stops calling it for `cooldown`. */
export interface CircuitBreakerOptions {
  /** Consecutive factory failures that open the circuit. @default 5 */
  failureThreshold?: number | undefined
  /** How long the circuit stays open before one probe call is let through. @default '30s' */
  cooldown?: Duration | undefined
  /** `'key'`: one circuit per key; `'shared'`: one circuit for every key of the stack. @default 'key' */
  scope?: 'key' | 'shared' | undefined
}

/** `circuitBreaker` after validation. */
export interface ResolvedCircuitBreaker {
  failureThreshold: number
  cooldown: number
  scope: 'key' | 'shared'
}

const CIRCUIT_BREAKER_NAMES = optionNames<CircuitBreakerOptions>({
  failureThreshold: true,
  cooldown: true,
  scope: true,
})

export const DEFAULT_FAILURE_THRESHOLD = 5
export const DEFAULT_COOLDOWN = 30_000
/** Per-key circuits kept; closed circuits with no failure are dropped first. */
const MAX_CIRCUITS = 10_000
const SHARED = '\u0000shared'

export function resolveCircuitBreaker(
  option: unknown,
  base?: ResolvedCircuitBreaker,
): ResolvedCircuitBreaker | undefined {
  if (option === undefined) return base
  if (option === false) return undefined
  if (option === true) option = {}
  if (typeof option !== 'object' || option === null) {
    throw new ValidationError(
      '"circuitBreaker" must be false, true or { failureThreshold, cooldown, scope }',
      'circuitBreaker',
    )
  }
  assertKnownOptions(option, CIRCUIT_BREAKER_NAMES, 'an option', 'circuitBreaker')
  const { failureThreshold, cooldown, scope } = option as CircuitBreakerOptions
  const threshold = failureThreshold ?? base?.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD
  if (!Number.isInteger(threshold) || threshold < 1) {
    throw new ValidationError(
      '"circuitBreaker.failureThreshold" must be a positive integer',
      'circuitBreaker.failureThreshold',
    )
  }
  const resolvedScope = scope ?? base?.scope ?? 'key'
  if (resolvedScope !== 'key' && resolvedScope !== 'shared') {
    throw new ValidationError(`"circuitBreaker.scope" must be 'key' or 'shared'`, 'circuitBreaker.scope')
  }
  return {
    failureThreshold: threshold,
    cooldown: optionalDuration(cooldown, 'circuitBreaker.cooldown') ?? base?.cooldown ?? DEFAULT_COOLDOWN,
    scope: resolvedScope,
  }
}

interface Circuit {
  failures: number
  /** Open until this time (clock ms); 0 when closed. */
  openUntil: number
  /**
   * A half-open probe runs until it settles or until this time, whichever comes first: a probe that
   * hangs must not keep the circuit shut forever.
   */
  probeUntil: number
}

/** What `acquire` answers: go ahead (maybe as the half-open probe), or refused until `retryAt`. */
export type CircuitDecision = { allowed: true; probe: boolean } | { allowed: false; retryAt: number }

/**
 * Circuit breakers for factories, driven by the stack's clock. Closed: calls run, consecutive failures
 * are counted. Open: calls are refused (the reader serves stale within grace or throws
 * `CircuitOpenError`). After `cooldown` the circuit is half-open: exactly one call runs as a probe;
 * its success closes the circuit, its failure opens it for another `cooldown`.
 */
export class CircuitBreakers {
  readonly #clock: Clock
  readonly #circuits = new Map<string, Circuit>()

  constructor(clock: Clock) {
    this.#clock = clock
  }

  acquire(key: string, options: ResolvedCircuitBreaker): CircuitDecision {
    const circuit = this.#circuits.get(this.#id(key, options))
    if (!circuit || circuit.openUntil === 0) return { allowed: true, probe: false }
    const now = this.#clock.now()
    if (now < circuit.openUntil || now < circuit.probeUntil) {
      return { allowed: false, retryAt: Math.max(circuit.openUntil, circuit.probeUntil) }
    }
    circuit.probeUntil = now + options.cooldown
    return { allowed: true, probe: true }
  }

  succeeded(key: string, options: ResolvedCircuitBreaker): void {
    const id = this.#id(key, options)
    const circuit = this.#circuits.get(id)
    if (!circuit) return
    if (options.scope === 'key') this.#circuits.delete(id)
    else {
      circuit.failures = 0
      circuit.openUntil = 0
      circuit.probeUntil = 0
    }
  }

  failed(key: string, options: ResolvedCircuitBreaker): void {
    const id = this.#id(key, options)
    let circuit = this.#circuits.get(id)
    if (!circuit) {
      this.#makeRoom()
      circuit = { failures: 0, openUntil: 0, probeUntil: 0 }
      this.#circuits.set(id, circuit)
    }
    circuit.failures++
    if (circuit.probeUntil > 0 || circuit.failures >= options.failureThreshold) {
      circuit.openUntil = this.#clock.now() + options.cooldown
      circuit.probeUntil = 0
    }
  }

  /** `'closed'`, `'open'` or `'half-open'` (cooldown over, next call probes). */
  state(key: string, options: ResolvedCircuitBreaker): 'closed' | 'open' | 'half-open' {
    const circuit = this.#circuits.get(this.#id(key, options))
    if (!circuit || circuit.openUntil === 0) return 'closed'
    return this.#clock.now() < circuit.openUntil ? 'open' : 'half-open'
  }

  #id(key: string, options: ResolvedCircuitBreaker): string {
    return options.scope === 'shared' ? SHARED : key
  }

  #makeRoom(): void {
    if (this.#circuits.size < MAX_CIRCUITS) return
    // Oldest first: a key that failed long ago and never again is the cheapest to forget.
    for (const [id, circuit] of this.#circuits) {
      if (circuit.openUntil === 0 || circuit.openUntil < this.#clock.now()) {
        this.#circuits.delete(id)
        if (this.#circuits.size < MAX_CIRCUITS) return
      }
    }
    this.#circuits.delete(this.#circuits.keys().next().value!)
  }
}

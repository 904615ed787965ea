// `lock` and `withLock`: a named lock any instance of the stack can take, answered at once or after a
// bounded wait; only the owner's token releases or extends it.

import { randomUUID } from 'node:crypto'
import { LockNotAcquiredError, ValidationError } from '../errors.ts'
import { assertKnownOptions, optionNames } from '../internal/known-options.ts'
import { type Duration, parseDuration } from '../internal/units.ts'
import { assertKey } from '../stack/keys.ts'
import type { StackView } from '../stack/view.ts'
import type { CoordinationStore } from './store.ts'
import { storeFor } from './stores.ts'

/** Options of `cache.lock(key, options)`. */
export interface LockOptions {
  /** How long the lock holds unless released or extended; a holder that dies frees it after this. */
  ttl: Duration
  /** Token naming the holder: only a call with it releases or extends the lock. @default a random UUID per call */
  owner?: string | undefined
  /** Keep trying this long while another owner holds the lock. @default 0 (answer at once) */
  wait?: Duration | undefined
  /** Pause between tries while waiting (jittered by ±50%, so waiters do not retry in step). @default '50ms' */
  retryDelay?: Duration | undefined
}

/** Options of `cache.withLock(key, fn, options)`. */
export interface WithLockOptions extends LockOptions {
  /** Extend the lock every third of its `ttl` while `fn` runs. @default true */
  autoExtend?: boolean | undefined
}

/** What `cache.lock()` answers. */
export interface Lock {
  /** The lock key, as given (without the namespace). */
  readonly key: string
  /** The owner token this call used. */
  readonly owner: string
  /** True when this call holds the lock. */
  readonly acquired: boolean
  /** Frees the lock if this owner still holds it; true when it did. */
  release(): Promise<boolean>
  /** Sets the remaining time to `ttl` (default: the lock's own) if this owner still holds it; true when it did. */
  extend(ttl?: Duration): Promise<boolean>
}

/** The lock `withLock` hands to its function: held, with a signal that aborts if it is lost. */
export interface HeldLock extends Lock {
  /** Aborts when an automatic extension finds the lock no longer ours (it expired, or Redis failed). */
  readonly signal: AbortSignal
}

/** @default retryDelay of `lock()` in ms. */
export const DEFAULT_LOCK_RETRY_DELAY = 50

const LOCK_OPTION_NAMES = optionNames<LockOptions>({ ttl: true, owner: true, wait: true, retryDelay: true })
const WITH_LOCK_OPTION_NAMES = optionNames<WithLockOptions>({
  ttl: true,
  owner: true,
  wait: true,
  retryDelay: true,
  autoExtend: true,
})

interface ResolvedLock {
  ttl: number
  owner: string
  wait: number
  retryDelay: number
}

// Callers of this process waiting on a key, woken at once by a release here (others retry on a timer).
const waiting = new WeakMap<CoordinationStore, Map<string, Set<() => void>>>()

function resolve(options: unknown, names: ReadonlySet<string>, what: string): ResolvedLock {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError(`${what} needs options: { ttl }`, 'options')
  }
  assertKnownOptions(options, names, `an option of ${what}`)
  const { ttl, owner, wait, retryDelay } = options as LockOptions
  const ms = Math.ceil(parseDuration(ttl, 'ttl'))
  if (ms < 1) throw new ValidationError('"ttl" must be at least 1ms', 'ttl')
  if (owner !== undefined) assertKey(owner, 'owner')
  return {
    ttl: ms,
    owner: owner ?? randomUUID(),
    wait: wait === undefined ? 0 : parseDuration(wait, 'wait'),
    retryDelay: Math.max(
      1,
      retryDelay === undefined ? DEFAULT_LOCK_RETRY_DELAY : parseDuration(retryDelay, 'retryDelay'),
    ),
  }
}

/** `cache.lock(key, options)`. */
export async function lock(view: StackView, key: string, options: LockOptions): Promise<Lock> {
  assertKey(key)
  return take(view, key, resolve(options, LOCK_OPTION_NAMES, 'lock()'))
}

/** `cache.withLock(key, fn, options)`: `fn` runs while the lock is held; the lock is released after it. */
export async function withLock<R>(
  view: StackView,
  key: string,
  fn: (lock: HeldLock) => R | Promise<R>,
  options: WithLockOptions,
): Promise<R> {
  assertKey(key)
  if (typeof fn !== 'function') throw new ValidationError('"fn" must be a function', 'fn')
  const resolved = resolve(options, WITH_LOCK_OPTION_NAMES, 'withLock()')
  const started = view.engine.clock.now()
  const held = await take(view, key, resolved)
  if (!held.acquired)
    throw new LockNotAcquiredError(key, resolved.wait > 0 ? view.engine.clock.now() - started : 0)
  const controller = new AbortController()
  let renewal: NodeJS.Timeout | undefined
  if (options.autoExtend !== false) {
    renewal = setInterval(() => {
      held.extend().then(
        (still) => {
          if (!still) controller.abort(new LockNotAcquiredError(key, 0))
        },
        (error: unknown) => controller.abort(error),
      )
    }, resolved.ttl / 3)
    renewal.unref()
  }
  try {
    return await fn({ ...held, release: held.release, extend: held.extend, signal: controller.signal })
  } finally {
    clearInterval(renewal)
    await held.release()
  }
}

async function take(view: StackView, key: string, options: ResolvedLock): Promise<Lock> {
  const engine = view.engine
  const store = storeFor(engine)
  const full = view.namespace + key
  const deadline = engine.clock.now() + options.wait
  let acquired = await store.acquire(full, options.owner, options.ttl)
  while (!acquired && engine.clock.now() < deadline && !engine.disconnected) {
    const left = deadline - engine.clock.now()
    await pause(store, full, Math.min(left, options.retryDelay * (0.5 + Math.random())))
    acquired = await store.acquire(full, options.owner, options.ttl)
  }
  return handle(store, key, full, options, acquired)
}

function handle(
  store: CoordinationStore,
  key: string,
  full: string,
  options: ResolvedLock,
  acquired: boolean,
): Lock {
  const { owner } = options
  return {
    key,
    owner,
    acquired,
    release: async () => {
      if (!acquired) return false
      const released = await store.release(full, owner)
      if (released) wake(store, full)
      return released
    },
    extend: async (ttl?: Duration) => {
      if (!acquired) return false
      const ms = ttl === undefined ? options.ttl : Math.ceil(parseDuration(ttl, 'ttl'))
      if (ms < 1) throw new ValidationError('"ttl" must be at least 1ms', 'ttl')
      return store.extend(full, owner, ms)
    },
  }
}

function pause(store: CoordinationStore, key: string, ms: number): Promise<void> {
  let keys = waiting.get(store)
  if (!keys) waiting.set(store, (keys = new Map()))
  let set = keys.get(key)
  if (!set) keys.set(key, (set = new Set()))
  const waiters = set
  return new Promise((done) => {
    const finish = () => {
      clearTimeout(timer)
      waiters.delete(finish)
      if (waiters.size === 0 && keys.get(key) === waiters) keys.delete(key)
      done()
    }
    const timer = setTimeout(finish, ms)
    waiters.add(finish)
  })
}

function wake(store: CoordinationStore, key: string): void {
  const set = waiting.get(store)?.get(key)
  if (set) for (const finish of [...set]) finish()
}

/** Enfyra's `acquire(key, value, ttl)`: takes the lock for owner `value`, at once; true when taken. */
export async function acquireAs(
  view: StackView,
  key: string,
  owner: string,
  ttl: Duration,
): Promise<boolean> {
  return (await lock(view, key, { ttl, owner })).acquired
}

/** Enfyra's `release(key, value)`: frees the lock only when `value` holds it. */
export async function releaseAs(view: StackView, key: string, owner: string): Promise<boolean> {
  assertKey(key)
  assertKey(owner, 'value')
  const store = storeFor(view.engine)
  const released = await store.release(view.namespace + key, owner)
  if (released) wake(store, view.namespace + key)
  return released
}

/** Enfyra's `exists(key, value)`: true when `value` holds the lock. */
export function holdsAs(view: StackView, key: string, owner: string): Promise<boolean> {
  assertKey(key)
  assertKey(owner, 'value')
  return storeFor(view.engine).holds(view.namespace + key, owner)
}

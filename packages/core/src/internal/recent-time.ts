// The default clock, and the reading the L1 hit path reuses. A clock read costs ~100 ns on this
// project's VMs (Date.now through V8 and the vDSO), as much as the rest of an in-memory hit; an
// awaited lru-cache get with a ttl reads the clock once per millisecond at most (ttlResolution). An L1
// hit arms a 1 ms timer (`keepForHits`); until it runs, the latest reading any cache operation of the
// process took serves L1 reads, for at most MAX_USES reads each: an entry is served as fresh at most
// ~1 ms past its expiry while the event loop turns, and in one long synchronous stretch of hits (an
// awaited loop never yields to timers) the clock is read again every MAX_USES hits. Every other
// decision (writes, invalidations, misses, stale windows) reads the clock itself (`systemNow`), and
// stores its reading here while the timer runs, so a hit never judges with a time older than the last
// write. Only hits arm the timer: when every clock read armed it, a process doing only misses re-armed it
// every millisecond, which cost ~15 µs of CPU per getOrSet miss on Redis or memory + Redis on this
// project's VM (issue 18, bench/src/probe/miss-cpu-ab.ts).
import { setTimeout } from 'node:timers'

/** How long a reading may serve hits while the event loop turns. */
export const RECENT_RESOLUTION_MS = 1
/** Hits one reading may serve before the clock is read again, however long no timer has run. */
export const MAX_USES = 16

// A test that fakes time (vitest's or Jest's fake timers, sinon) swaps the global `Date` for its own and
// moves time by hand, in jumps no real timer sees: while it is installed, every hit reads the clock.
const REAL_DATE = Date

// A reading kept for L1 reads; 0 when none is (then the 1 ms timer is not running either).
let recent = 0
let uses = 0

function forget(): void {
  recent = 0
}

/** True while the 1 ms timer runs (for tests). */
export function hitTimerRunning(): boolean {
  return recent !== 0
}

/** `Date.now()`, kept for L1 reads while the timer runs. */
export function systemNow(): number {
  const now = Date.now()
  if (recent !== 0) {
    recent = now
    uses = 0
  }
  return now
}

/**
 * The latest reading while the timer runs and it has served fewer than MAX_USES reads (see above),
 * else a new one; always a new one while the global `Date` is not the one this module loaded with (fake
 * timers). Arms nothing: an L1 probe that finds nothing leaves no timer behind.
 */
export function recentSystemNow(): number {
  return recent !== 0 && ++uses < MAX_USES && Date === REAL_DATE ? recent : systemNow()
}

/** After an L1 hit judged with `now`: keeps that reading for the next L1 reads until the 1 ms timer runs. */
export function keepForHits(now: number): void {
  if (recent !== 0) return
  recent = now
  uses = 0
  // node:timers, not the global: a test's fake timers would never fire it, and the reading would stay.
  setTimeout(forget, RECENT_RESOLUTION_MS).unref()
}

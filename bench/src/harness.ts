// A small, dependency-free timing harness. Every operation is awaited (a synchronous store is
// measured as an awaited one, like the async libraries); batches are timed with
// process.hrtime.bigint(); a warm-up lets V8 optimise before any batch counts.

export interface MeasureOptions {
  /** Time spent running the operation before timing starts. */
  warmupMs: number
  /** Timed batches run until this much time has been measured... */
  minTimeMs: number
  /** ...or this many operations have been timed, whichever comes first. */
  maxOps: number
}

export interface Sample {
  /** Mean nanoseconds per operation over the timed batches. */
  nsPerOp: number
  ops: number
}

const BATCH_TARGET_NS = 2_000_000n

declare const gc: ((options?: { type: 'major' | 'minor' }) => void) | undefined

/**
 * Collects garbage when --expose-gc is on, so one contender's garbage is not billed to the next.
 * Before each sample a minor GC is enough (what a 50–400 ms sample could trip over is young
 * garbage) and costs ~1 ms, where two full GCs cost 50–100 ms on a busy 2-core machine.
 */
export function collectGarbage(type: 'major' | 'minor' = 'major'): void {
  if (typeof gc !== 'function') return
  if (type === 'minor') gc({ type: 'minor' })
  else {
    gc()
    gc()
  }
}

/** Length of one slice of `settle()`, ms. */
const SETTLE_SLICE_MS = 2
/** Consecutive calm slices `settle()` waits for. */
const SETTLE_CALM_SLICES = 3
/** Share of one core the whole process may use in a slice that counts as calm. */
const SETTLE_CPU_SHARE = 0.1

/**
 * Waits until the process is idle: `SETTLE_CALM_SLICES` slices of `SETTLE_SLICE_MS` in a row in which
 * all its threads together used under 10% of a core, or `maxMs` (then the machine is busy anyway;
 * resolves with the time waited). `gc()` returns before V8's helper threads finish: after a full GC
 * of a heap that just dropped 20,000 entries they sweep and unmap for another 10–25 ms, 7–16 ms of
 * CPU (measured with `src/probe/invalidate-window.ts`), and on 2 cores that stalls whatever is timed
 * next by up to 4 ms. Counting the process's CPU, not a fixed pause, also waits out a bus still
 * delivering echoes, and does not depend on how busy other processes keep the machine.
 */
export async function settle(maxMs = 250): Promise<number> {
  const start = performance.now()
  let calm = 0
  while (calm < SETTLE_CALM_SLICES && performance.now() - start < maxMs) {
    const cpu = process.cpuUsage()
    const t0 = performance.now()
    await new Promise((resolve) => setTimeout(resolve, SETTLE_SLICE_MS))
    const used = process.cpuUsage(cpu)
    const sliceUs = (performance.now() - t0) * 1000
    calm = used.user + used.system < SETTLE_CPU_SHARE * sliceUs ? calm + 1 : 0
  }
  return performance.now() - start
}

/**
 * Measures `op(i)` where `i` increases across warm-up and timed batches (so a miss scenario can use
 * a fresh key per call). Batch size grows until one batch takes ~2 ms, which keeps the cost of
 * reading the clock out of the result.
 */
export async function measure(op: (i: number) => unknown, options: MeasureOptions): Promise<Sample> {
  let i = 0
  let batch = 1
  const warmupEnd = process.hrtime.bigint() + BigInt(options.warmupMs) * 1_000_000n
  while (process.hrtime.bigint() < warmupEnd) {
    const t0 = process.hrtime.bigint()
    for (let j = 0; j < batch; j++) await op(i++)
    if (process.hrtime.bigint() - t0 < BATCH_TARGET_NS && batch < 1 << 20) batch *= 2
  }
  const budget = BigInt(options.minTimeMs) * 1_000_000n
  let elapsed = 0n
  let ops = 0
  while (elapsed < budget && ops < options.maxOps) {
    const n = Math.min(batch, options.maxOps - ops)
    const t0 = process.hrtime.bigint()
    for (let j = 0; j < n; j++) await op(i++)
    elapsed += process.hrtime.bigint() - t0
    ops += n
  }
  return { nsPerOp: Number(elapsed) / ops, ops }
}

/** Times one awaited call (bursts, invalidations): nanoseconds. */
export async function timeOnce(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - t0)
}

/** Order of contenders in round `round`: rotated by one each round so no one always runs first. */
export function rotated<T>(items: readonly T[], round: number): T[] {
  if (items.length === 0) return []
  const k = round % items.length
  return [...items.slice(k), ...items.slice(0, k)]
}

export interface Summary {
  median: number
  min: number
  max: number
  q1: number
  q3: number
}

function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  const a = sorted[lo] ?? Number.NaN
  const b = sorted[hi] ?? Number.NaN
  return a + (b - a) * (pos - lo)
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b)
  return {
    median: quantile(sorted, 0.5),
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
    q1: quantile(sorted, 0.25),
    q3: quantile(sorted, 0.75),
  }
}

import type { BenchEnv, ContenderKind, Tier } from '../contenders/index.ts'
import type { MeasureOptions, Summary } from '../harness.ts'

/** Every unit is "lower is better". */
export type Unit = 'ns/op' | 'ms' | 'bytes/entry'

export type RowStatus = 'ok' | 'failed' | 'unavailable'

export interface Row {
  contender: string
  kind: ContenderKind
  status: RowStatus
  /** Why a check failed or why the contender could not run. */
  failures: string[]
  /** One value per round, in `unit`. */
  samples: number[]
  summary?: Summary | undefined
  /** Scenario-specific facts (factory calls, how a hit isolates values...). */
  info?: Record<string, string | number> | undefined
}

export interface ScenarioResult {
  id: string
  title: string
  tier?: Tier | undefined
  unit: Unit
  rows: Row[]
  notes: string[]
}

export interface RunContext {
  env: BenchEnv
  rounds: number
  measure: MeasureOptions
  quick: boolean
  /** Entries for the heap scenario. */
  heapEntries: number
  log(message: string): void
}

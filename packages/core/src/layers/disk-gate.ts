/**
 * Lets at most `limit` file operations run at once; the rest wait in order. Without it a burst of
 * concurrent writes (a thousand misses at once) opens a file each and fails with EMFILE once the
 * process's descriptor limit is reached.
 */
export class DiskGate {
  readonly #limit: number
  readonly #waiting: (() => void)[] = []
  #running = 0

  constructor(limit: number) {
    this.#limit = limit
  }

  /** Runs `task` once fewer than `limit` tasks are running. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#limit) await new Promise<void>((resolve) => this.#waiting.push(resolve))
    else this.#running++
    try {
      return await task()
    } finally {
      // The slot passes straight to the next waiter, so the count stays right without a re-check.
      const next = this.#waiting.shift()
      if (next) next()
      else this.#running--
    }
  }
}

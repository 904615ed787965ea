const FRAMES = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏'

/**
 * One line on stderr that says a long scan is alive: a spinner, what is being done, keys seen so far
 * and the time spent. Drawn only on a terminal (never into a pipe or a log), erased when done.
 */
export class Progress {
  readonly #stream: NodeJS.WriteStream
  readonly #timer: NodeJS.Timeout | undefined
  #count: number | undefined

  constructor(label: string, stream: NodeJS.WriteStream = process.stderr) {
    this.#stream = stream
    if (stream.isTTY !== true) return
    const started = performance.now()
    let frame = 0
    this.#timer = setInterval(() => {
      const seconds = ((performance.now() - started) / 1000).toFixed(1)
      const count = this.#count === undefined ? '' : ` ${this.#count.toLocaleString('en-US')} keys`
      stream.write(`\r\x1b[K${FRAMES[frame++ % FRAMES.length]} ${label}${count} ${seconds}s`)
    }, 100)
    this.#timer.unref()
  }

  /** Counts one more key (or `n`). */
  tick(n = 1): void {
    this.#count = (this.#count ?? 0) + n
  }

  /** Stops and erases the line. */
  done(): void {
    if (this.#timer === undefined) return
    clearInterval(this.#timer)
    this.#stream.write('\r\x1b[K')
  }
}

/**
 * An `AbortController` made on first use. Building one (controller, signal, event target) costs more
 * than the rest of a cache miss's bookkeeping, and most factories never read their signal: the
 * controller only exists once somebody asks for the signal, and an abort before that is kept and
 * applied when it is made, so a late reader still sees an aborted signal with its reason.
 */
export class LazyAbort {
  #controller: AbortController | undefined
  #aborted = false
  #reason: unknown

  /** The signal, made now if needed (already aborted when `abort` ran before). */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.#aborted) this.#controller.abort(this.#reason)
    }
    return this.#controller.signal
  }

  /** Aborts with `reason`; the first abort wins, like `AbortController.abort`. */
  abort(reason: unknown): void {
    if (this.#controller !== undefined) {
      this.#controller.abort(reason)
      return
    }
    if (this.#aborted) return
    this.#aborted = true
    this.#reason = reason
  }
}

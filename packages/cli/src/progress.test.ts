import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Progress } from './progress.ts'

// Carriage return + erase line: each redraw starts with it, and done() leaves only it.
const ERASE = '\r\x1b[K'

function stream(isTTY: boolean) {
  const written: string[] = []
  return {
    written,
    stream: { isTTY, write: (text: string) => written.push(text) } as unknown as NodeJS.WriteStream,
  }
}

describe('Progress', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('on a terminal, redraws one line every 100 ms with the keys counted, and erases it when done', () => {
    const { written, stream: out } = stream(true)
    const progress = new Progress('scanning', out)
    progress.tick()
    progress.tick(1233)
    vi.advanceTimersByTime(100)
    expect(written).toHaveLength(1)
    expect(written[0]!.startsWith(ERASE)).toBe(true)
    expect(written[0]!.slice(ERASE.length)).toMatch(/^. scanning 1,234 keys \d+\.\ds$/)
    vi.advanceTimersByTime(100)
    expect(written).toHaveLength(2)
    progress.done()
    expect(written.at(-1)).toBe(ERASE)
    vi.advanceTimersByTime(1000)
    expect(written).toHaveLength(3)
  })

  it('without a count (a scan core runs), shows what is being done and the time', () => {
    const { written, stream: out } = stream(true)
    const progress = new Progress('clear namespace "a"', out)
    vi.advanceTimersByTime(100)
    expect(written[0]!.slice(ERASE.length)).toMatch(/^. clear namespace "a" \d+\.\ds$/)
    progress.done()
  })

  it('writes nothing when stderr is not a terminal (a pipe, a log file)', () => {
    const { written, stream: out } = stream(false)
    const progress = new Progress('scanning', out)
    progress.tick(10)
    vi.advanceTimersByTime(1000)
    progress.done()
    expect(written).toEqual([])
  })
})

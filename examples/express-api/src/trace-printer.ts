// Prints each finished trace as an indented tree, once its local root span ends: the request, the cache
// operation under it, and the database query under that (on a MISS), with the attributes that matter.
import type { ExportResult } from '@opentelemetry/core'
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace'

/** Attributes shown beside a span's name, when present. */
const SHOWN = [
  'url.path',
  'http.target',
  'cache.status',
  'cache.hit',
  'cache.stale',
  'cache.layer',
  'cache.coalesced',
  'db.statement',
]

/** A span exporter that writes trees of spans through `write` (one call per trace). */
export class TracePrinter implements SpanExporter {
  readonly #pending = new Map<string, ReadableSpan[]>()
  readonly #write: (text: string) => void

  constructor(write: (text: string) => void = (text) => console.log(text)) {
    this.#write = write
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    for (const span of spans) {
      const traceId = span.spanContext().traceId
      const list = this.#pending.get(traceId) ?? []
      list.push(span)
      this.#pending.set(traceId, list)
      // Children end before their parent: the root ending means the trace is complete here.
      if (span.parentSpanContext === undefined) {
        this.#pending.delete(traceId)
        this.#write(formatTrace(list))
      }
    }
    done({ code: 0 })
  }

  async shutdown(): Promise<void> {
    this.#pending.clear()
  }
}

/** The tree of one trace's spans, roots first, children in start order. */
export function formatTrace(spans: readonly ReadableSpan[]): string {
  const ids = new Set(spans.map((span) => span.spanContext().spanId))
  const children = new Map<string | undefined, ReadableSpan[]>()
  for (const span of spans) {
    const parent = span.parentSpanContext?.spanId
    const key = parent !== undefined && ids.has(parent) ? parent : undefined
    children.set(key, [...(children.get(key) ?? []), span])
  }
  const lines: string[] = []
  const walk = (parent: string | undefined, depth: number) => {
    const level = (children.get(parent) ?? []).sort((a, b) => compareTime(a.startTime, b.startTime))
    for (const span of level) {
      lines.push(`${'  '.repeat(depth)}${describe(span)}`)
      walk(span.spanContext().spanId, depth + 1)
    }
  }
  walk(undefined, 1)
  return `trace ${spans[0]?.spanContext().traceId.slice(0, 8) ?? ''}\n${lines.join('\n')}`
}

function describe(span: ReadableSpan): string {
  const [seconds, nanos] = span.duration
  const ms = (seconds * 1e3 + nanos / 1e6).toFixed(1)
  const shown = SHOWN.filter((name) => span.attributes[name] !== undefined).map(
    (name) => `${name}=${String(span.attributes[name])}`,
  )
  const links = span.links.length > 0 ? [`linked to ${span.links[0]!.context.spanId.slice(0, 8)}`] : []
  return [`${span.name}`, `${ms} ms`, ...shown, ...links].join('  ')
}

function compareTime(a: readonly [number, number], b: readonly [number, number]): number {
  return a[0] - b[0] || a[1] - b[1]
}

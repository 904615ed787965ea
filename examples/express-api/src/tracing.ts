// TRACING=1: OpenTelemetry for the example, printing each request's spans to the console. Loaded before
// the app (main.ts imports it first), so the HTTP instrumentation wraps Node's server when Express
// requires it. In production you would use @opentelemetry/sdk-node and an OTLP exporter instead.
import type { CacheStack } from '@cachestack/core'
import { instrumentCache } from '@cachestack/otel'
import { context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { registerInstrumentations } from '@opentelemetry/instrumentation'
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http'
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace'
import { TracePrinter } from './trace-printer.ts'

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
const provider = new TracerProvider({
  spanProcessors: [new SimpleSpanProcessor({ exporter: new TracePrinter() })],
})
trace.setGlobalTracerProvider(provider)
registerInstrumentations({ instrumentations: [new HttpInstrumentation()] })

/** Spans for every operation of `cache` (raw keys shown: this is a local demo, not production). */
export function traceCache(cache: CacheStack): () => void {
  return instrumentCache(cache, { includeKeys: true })
}

/** Flushes and stops tracing. */
export function stopTracing(): Promise<void> {
  return provider.shutdown()
}

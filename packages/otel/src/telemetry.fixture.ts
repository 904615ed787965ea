// Test fixture: the real OpenTelemetry SDK with in-memory exporters (no mocks of the API).

import { context, type Meter, type Tracer } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics'
import {
  InMemorySpanExporter,
  type ReadableSpan,
  type Sampler,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace'

/** A pull reader: the test collects when it wants to look. */
class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** Registers the AsyncLocalStorage context manager once per process, as the Node SDK does. */
export function useAsyncContext(): void {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
}

/** A tracer and a meter on the SDK, with what they exported. */
export interface Telemetry {
  tracer: Tracer
  meter: Meter
  provider: TracerProvider
  meterProvider: MeterProvider
  spans(): ReadableSpan[]
  span(name: string): ReadableSpan
  collect(): Promise<ResourceMetrics>
  shutdown(): Promise<void>
}

export function createTelemetry(sampler?: Sampler): Telemetry {
  const exporter = new InMemorySpanExporter()
  const provider = new TracerProvider({
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
    ...(sampler ? { sampler } : {}),
  })
  const reader = new TestReader()
  const meterProvider = new MeterProvider({ readers: [reader] })
  const spans = () => exporter.getFinishedSpans()
  return {
    tracer: provider.getTracer('test'),
    meter: meterProvider.getMeter('test'),
    provider,
    meterProvider,
    spans,
    span(name) {
      const found = spans().filter((span) => span.name === name)
      if (found.length !== 1) throw new Error(`expected one ${name} span, got ${found.length}`)
      return found[0]!
    },
    async collect() {
      const { resourceMetrics, errors } = await reader.collect()
      if (errors.length > 0) throw errors[0]
      return resourceMetrics
    },
    async shutdown() {
      await provider.shutdown()
      await meterProvider.shutdown()
    },
  }
}

/** The data points of one metric, as `[attributes, value]`. */
export function points(metrics: ResourceMetrics, name: string): [Record<string, unknown>, unknown][] {
  const found = metrics.scopeMetrics.flatMap((scope) => scope.metrics).find((m) => m.descriptor.name === name)
  if (!found) return []
  return found.dataPoints.map((point) => [point.attributes, point.value])
}

/** The id of a span's parent, or undefined for a root span. */
export function parentId(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId
}

import { ValidationError } from '@cachestack/core'
import { type Meter, metrics, type Tracer, trace } from '@opentelemetry/api'
import { SCOPE } from './names.ts'

/** Options of `instrumentCache`. */
export interface InstrumentCacheOptions {
  /** Tracer spans are made with. @default the global tracer provider's `@cachestack/otel` tracer */
  tracer?: Tracer
  /** Meter the instruments are made with. @default the global meter provider's `@cachestack/otel` meter */
  meter?: Meter
  /** Record raw keys (`cache.key`, `cache.keys`, `cache.prefix`, `cache.pattern`). Keys often hold user ids and emails. @default false */
  includeKeys?: boolean
  /** `cache.name` on every span and metric, to tell several stacks apart. @default the stack's `name` option ('default') */
  name?: string
}

/** `InstrumentCacheOptions` with defaults applied. */
export interface NormalizedOptions {
  readonly tracer: Tracer
  readonly meter: Meter
  readonly includeKeys: boolean
  readonly name: string
}

const KNOWN = ['tracer', 'meter', 'includeKeys', 'name']
const VERSION = '0.1.0'

/** Checks the options once and fills in defaults; an unknown or mistyped option is a `ValidationError`. */
export function normalizeOptions(
  options: InstrumentCacheOptions | undefined,
  stackName = 'default',
): NormalizedOptions {
  if (options === undefined) options = {}
  if (typeof options !== 'object' || options === null)
    throw new ValidationError('instrumentCache options must be an object', 'options')
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) {
      throw new ValidationError(`Unknown instrumentCache option "${key}" (known: ${KNOWN.join(', ')})`, key)
    }
  }
  const { tracer, meter, includeKeys = false, name = stackName } = options
  if (tracer !== undefined && typeof tracer?.startSpan !== 'function')
    throw new ValidationError('"tracer" must be an OpenTelemetry Tracer', 'tracer')
  if (meter !== undefined && typeof meter?.createCounter !== 'function')
    throw new ValidationError('"meter" must be an OpenTelemetry Meter', 'meter')
  if (typeof includeKeys !== 'boolean')
    throw new ValidationError('"includeKeys" must be a boolean', 'includeKeys')
  if (typeof name !== 'string' || name === '')
    throw new ValidationError('"name" must be a non-empty string', 'name')
  return {
    tracer: tracer ?? trace.getTracer(SCOPE, VERSION),
    meter: meter ?? metrics.getMeter(SCOPE, VERSION),
    includeKeys,
    name,
  }
}

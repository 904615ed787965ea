import { METADATA } from './tokens.ts'

type AnyMethod = (this: unknown, ...args: unknown[]) => unknown

/**
 * Replaces a decorated method with `wrap(original)`, keeping what other decorators stored on the original
 * (route path, HTTP method, `@HttpCode`...) so the wrapper still is the same route or handler to Nest.
 */
export function replaceMethod(
  target: object,
  propertyKey: string | symbol,
  descriptor: PropertyDescriptor,
  decorator: string,
  wrap: (original: AnyMethod, label: string) => AnyMethod,
): PropertyDescriptor {
  const original = descriptor.value as unknown
  if (typeof original !== 'function') {
    throw new TypeError(`@${decorator}() can only decorate a method; ${String(propertyKey)} is not one`)
  }
  const className = (target as { constructor?: { name?: string } }).constructor?.name ?? 'Anonymous'
  const wrapped = wrap(original as AnyMethod, `${className}.${String(propertyKey)}`)
  for (const key of Reflect.getOwnMetadataKeys(original)) {
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, original), wrapped)
  }
  Object.defineProperty(wrapped, 'name', { value: (original as AnyMethod).name })
  Reflect.defineMetadata(METADATA.usesStack, true, (target as { constructor: object }).constructor)
  descriptor.value = wrapped
  return descriptor
}

/** A response object among a handler's arguments (`@Res({ passthrough: true })`) answering non-2xx. */
export function answersNon2xx(args: readonly unknown[]): boolean {
  for (const arg of args) {
    const status = responseStatus(arg)
    if (status !== undefined && (status < 200 || status >= 300)) return true
  }
  return false
}

function responseStatus(arg: unknown): number | undefined {
  if (arg === null || typeof arg !== 'object') return undefined
  const candidate = arg as { statusCode?: unknown; raw?: unknown; setHeader?: unknown; header?: unknown }
  // Express: a ServerResponse; Fastify: a reply wrapping one. Plain DTOs with a `statusCode` field are not responses.
  const isResponse =
    typeof candidate.setHeader === 'function' ||
    (typeof candidate.header === 'function' && typeof candidate.raw === 'object')
  return isResponse && typeof candidate.statusCode === 'number' ? candidate.statusCode : undefined
}

import { createHmac, timingSafeEqual } from 'node:crypto'
import { BUS_VERSION, type BusMessage } from '../stack/bus-message.ts'

/** Why a received payload was not applied. */
export type RejectReason = 'own' | 'malformed' | 'version' | 'signature'

/** A decoded payload: the message, or why it is ignored. */
export type Decoded = { message: BusMessage } | { rejected: RejectReason }

/**
 * The wire form is `<signature>.<json>`: the hex HMAC-SHA256 of the JSON (empty when unsigned), a dot,
 * then `{"from":"<instance id>","m":<message>}`. The signature covers the exact bytes sent, so no
 * canonical re-serialization is needed to check it, and hex never contains the separator.
 */
export function encode(message: BusMessage, from: string, secret: Buffer | undefined): string {
  const body = `${opening(from)}"m":${JSON.stringify(message)}}`
  return `${secret ? sign(body, secret) : ''}.${body}`
}

let lastFrom = ''
let lastOpening = '{"from":"",'
/** `{"from":"<id>",`: how every body an instance sends begins (one instance id per bus: memoized). */
function opening(from: string): string {
  if (from !== lastFrom) {
    lastFrom = from
    lastOpening = `{"from":${JSON.stringify(from)},`
  }
  return lastOpening
}

/** Parses and checks a payload; never throws, whatever arrives on the channel. */
export function decode(payload: string, self: string, secret: Buffer | undefined): Decoded {
  const dot = payload.indexOf('.')
  if (dot === -1) return { rejected: 'malformed' }
  // Our own echo (every publish comes back to its sender) is recognised by its opening bytes, before
  // any signature check or parse: a forged message carrying our id is ignored all the same.
  if (payload.startsWith(opening(self), dot + 1)) return { rejected: 'own' }
  const body = payload.slice(dot + 1)
  if (secret && !verify(body, payload.slice(0, dot), secret)) return { rejected: 'signature' }
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    return { rejected: 'malformed' }
  }
  if (!isObject(parsed) || typeof parsed.from !== 'string' || !isObject(parsed.m)) {
    return { rejected: 'malformed' }
  }
  if (parsed.from === self) return { rejected: 'own' }
  const message = parsed.m
  // A newer release may speak a version this one cannot read: skipping it beats misreading it.
  if (message.v !== BUS_VERSION) return { rejected: 'version' }
  return isBusMessage(message) ? { message } : { rejected: 'malformed' }
}

function sign(body: string, secret: Buffer): string {
  return createHmac('sha256', secret).update(body).digest('hex')
}

function verify(body: string, signature: string, secret: Buffer): boolean {
  if (!/^[0-9a-f]{64}$/.test(signature)) return false
  return timingSafeEqual(Buffer.from(signature, 'hex'), Buffer.from(sign(body, secret), 'hex'))
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
}

function isStamp(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

/** Structural check of a version-1 message: the engine trusts the shape of what it applies. */
function isBusMessage(m: Record<string, unknown>): m is BusMessage {
  switch (m.type) {
    case 'delete':
    case 'set':
      return isStrings(m.keys)
    case 'expire':
      return isStrings(m.keys) && isStamp(m.at)
    case 'clear':
      return typeof m.namespace === 'string'
    case 'tags':
      return (
        isStrings(m.names) &&
        (m.mode === 'hard' || m.mode === 'soft') &&
        isStamp(m.at) &&
        (m.all === undefined || typeof m.all === 'boolean')
      )
    case 'prefix':
      return typeof m.prefix === 'string'
    case 'pattern':
      return typeof m.namespace === 'string' && typeof m.pattern === 'string'
    case 'generation':
      return Number.isInteger(m.value)
    default:
      return false
  }
}

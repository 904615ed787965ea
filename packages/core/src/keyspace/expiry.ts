// When a keyspace key expires: the helpers users pass as `expiry` / `defaultExpiry`, and what each one
// means to a backend at the moment of a write (a relative `PX`, a `PERSIST`, or nothing).

import { ValidationError } from '../errors.ts'

/** An expiry for keyspace writes: made by `expireIn`, `expireDailyAt`..., or `neverExpire` / `keepTtl`. */
export type Expiry =
  | { readonly kind: 'in'; readonly ms: number }
  | { readonly kind: 'dailyAt'; readonly hours: number; readonly minutes: number; readonly seconds: number }
  | { readonly kind: 'never' }
  | { readonly kind: 'keep' }

/** What a write does to the key's time to live: expire in `px` ms, remove it (`persist`), or leave it. */
export type ExpiryAction = { readonly px: number } | 'persist' | 'keep'

/** The key never expires (a write removes any time to live it had). */
export const neverExpire: Expiry = Object.freeze({ kind: 'never' })

/** A write leaves the key's current time to live as it is (a new key gets none). */
export const keepTtl: Expiry = Object.freeze({ kind: 'keep' })

/** Expires `ms` milliseconds after the write. */
export function expireIn(ms: number): Expiry {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) {
    throw new ValidationError(
      `expireIn(ms) needs a positive number of milliseconds; got ${String(ms)}`,
      'expiry',
    )
  }
  return Object.freeze({ kind: 'in', ms: Math.ceil(ms) })
}

/** Expires `seconds` seconds after the write. */
export function expireInSeconds(seconds: number): Expiry {
  return expireIn(seconds * 1_000)
}

/** Expires `minutes` minutes after the write. */
export function expireInMinutes(minutes: number): Expiry {
  return expireIn(minutes * 60_000)
}

/** Expires `hours` hours after the write. */
export function expireInHours(hours: number): Expiry {
  return expireIn(hours * 3_600_000)
}

/** Expires at the next `hours:minutes:seconds` UTC after the write (a write at that very moment: the next day). */
export function expireDailyAt(hours: number, minutes = 0, seconds = 0): Expiry {
  part(hours, 23, 'hours')
  part(minutes, 59, 'minutes')
  part(seconds, 59, 'seconds')
  return Object.freeze({ kind: 'dailyAt', hours, minutes, seconds })
}

function part(value: number, max: number, name: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new ValidationError(
      `expireDailyAt: "${name}" must be an integer from 0 to ${max}; got ${String(value)}`,
      'expiry',
    )
  }
}

const DAY = 86_400_000

/** Checks a user-given expiry (an option or a write's `{ expiry }`); `what` names it in the error. */
export function assertExpiry(expiry: unknown, what: string): asserts expiry is Expiry {
  const kind = (expiry as { kind?: unknown } | null)?.kind
  if (
    typeof expiry !== 'object' ||
    expiry === null ||
    !['in', 'dailyAt', 'never', 'keep'].includes(kind as string)
  ) {
    throw new ValidationError(
      `"${what}" must come from expireIn(), expireInSeconds/Minutes/Hours(), expireDailyAt(), neverExpire or keepTtl`,
      what,
    )
  }
}

/** What `expiry` means for a write at `now` (the stack's clock). */
export function expiryAction(expiry: Expiry, now: number): ExpiryAction {
  switch (expiry.kind) {
    case 'in':
      return { px: expiry.ms }
    case 'never':
      return 'persist'
    case 'keep':
      return 'keep'
    default: {
      const day = Math.floor(now / DAY) * DAY
      let at = day + ((expiry.hours * 60 + expiry.minutes) * 60 + expiry.seconds) * 1_000
      if (at <= now) at += DAY
      return { px: Math.ceil(at - now) }
    }
  }
}

import { ValidationError } from '../errors.ts'

/** Throws the contract's `TypeError` for anything but a non-empty string. */
export function assertKey(key: unknown, option = 'key'): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    const got = typeof key === 'string' ? 'an empty string' : key === null ? 'null' : typeof key
    throw new ValidationError(`"${option}" must be a non-empty string; got ${got}`, option)
  }
}

/** Throws when `value` cannot be stored: `undefined` means "miss" and so can never be a value. */
export function assertValue(value: unknown, key: string): void {
  if (value === undefined) {
    throw new ValidationError(
      `Cannot cache undefined under "${key}": undefined means a miss (use null)`,
      'value',
    )
  }
}

/** Turns a glob (`*`, `?`, `[abc]`) into an anchored RegExp for matching keys locally. */
export function globToRegExp(glob: string): RegExp {
  let source = ''
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!
    if (char === '*') source += '.*'
    else if (char === '?') source += '.'
    else if (char === '\\' && i + 1 < glob.length) source += escapeRegExp(glob[++i]!)
    else if (char === '[') {
      const end = glob.indexOf(']', i + 1)
      if (end === -1) source += '\\['
      else {
        const body = glob.slice(i + 1, end).replace(/\\/g, '\\\\')
        source += body.startsWith('^') || body.startsWith('!') ? `[^${body.slice(1)}]` : `[${body}]`
        i = end
      }
    } else source += escapeRegExp(char)
  }
  return new RegExp(`^${source}$`, 's')
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}

// Keyspaces on the stack's Redis layer (single server or Cluster): each operation is one native command
// on one key, or one script when it must also set the key's expiry in the same step; so every key lives
// in one slot and two instances never interleave inside an operation.

import { RedisScript, runScript } from '../coordination/redis-scripts.ts'
import { KeyspaceTypeError, LayerError } from '../errors.ts'
import { ConnectionWatch } from '../layers/redis-connection.ts'
import type { RedisLayer } from '../layers/redis-layer.ts'
import { type KeyspaceBackend, type ListEnd, nonFinite } from './backend.ts'
import type { ExpiryAction } from './expiry.ts'

// KEYS: key. ARGV: expiry mode ('px' | 'persist' | 'keep'), px, command, its arguments. The command and
// the expiry change in one step.
const WRITE = new RedisScript(`
local result = redis.call(ARGV[3], KEYS[1], unpack(ARGV, 4))
if ARGV[1] == 'px' then redis.call('PEXPIRE', KEYS[1], ARGV[2])
elseif ARGV[1] == 'persist' then redis.call('PERSIST', KEYS[1]) end
return result`)

// KEYS: key. ARGV: expiry mode, px, amount. A float increment in IEEE doubles (INCRBYFLOAT adds long
// doubles and rounds to 17 digits, so 0.1 + 0.2 would read 0.3 there and 0.30000000000000004 in memory).
const INCREMENT_FLOAT = new RedisScript(`
local text = redis.call('GET', KEYS[1])
local value = 0
if text then
  value = tonumber(text)
  if value == nil then return redis.error_reply('ERR value is not a valid float') end
end
value = value + tonumber(ARGV[3])
if value ~= value or value == math.huge or value == -math.huge then
  return redis.error_reply('ERR increment would produce NaN or Infinity')
end
local out = string.format('%.17g', value)
redis.call('SET', KEYS[1], out, 'KEEPTTL')
if ARGV[1] == 'px' then redis.call('PEXPIRE', KEYS[1], ARGV[2])
elseif ARGV[1] == 'persist' then redis.call('PERSIST', KEYS[1]) end
return out`)

type Arg = string | number

/** A `KeyspaceBackend` on a `RedisLayer`'s client, under the layer's prefix, bounded by its `commandTimeout`. */
export class RedisKeyspaceBackend implements KeyspaceBackend {
  readonly kind = 'redis'
  readonly #layer: RedisLayer
  readonly #watch: ConnectionWatch

  constructor(layer: RedisLayer, closed: AbortSignal) {
    this.#layer = layer
    // The layer reports the client's connection errors; this watch only bounds each call.
    this.#watch = new ConnectionWatch(layer.client, layer.commandTimeout, () => {})
    closed.addEventListener('abort', () => this.#watch.dispose(), { once: true })
  }

  async get(key: string): Promise<string | undefined> {
    return ((await this.#call(key, 'GET')) as string | null) ?? undefined
  }

  async set(key: string, value: string, expiry: ExpiryAction, only?: 'nx' | 'xx'): Promise<boolean> {
    const args: Arg[] = [value]
    if (expiry === 'keep') args.push('KEEPTTL')
    else if (expiry !== 'persist') args.push('PX', expiry.px)
    if (only) args.push(only.toUpperCase())
    return (await this.#call(key, 'SET', ...args)) === 'OK'
  }

  async delete(key: string): Promise<boolean> {
    return ((await this.#call(key, 'UNLINK')) as number) > 0
  }

  async expire(key: string, expiry: ExpiryAction): Promise<boolean> {
    return ((await this.#write(key, expiry, 'EXISTS')) as number) === 1
  }

  async ttl(key: string): Promise<number | undefined> {
    const remaining = (await this.#call(key, 'PTTL')) as number
    if (remaining === -2) return undefined
    return remaining === -1 ? Number.POSITIVE_INFINITY : remaining
  }

  async incrBy(key: string, amount: number, expiry: ExpiryAction): Promise<number> {
    return Number(await this.#write(key, expiry, 'INCRBY', amount))
  }

  async incrByFloat(key: string, amount: number, expiry: ExpiryAction): Promise<number> {
    return Number(await this.#script(key, INCREMENT_FLOAT, [...mode(expiry), String(amount)]))
  }

  async append(key: string, value: string, expiry: ExpiryAction): Promise<number> {
    return (await this.#write(key, expiry, 'APPEND', value)) as number
  }

  async getRange(key: string, start: number, end: number): Promise<string> {
    return (await this.#call(key, 'GETRANGE', start, end)) as string
  }

  async setRange(key: string, offset: number, value: string, expiry: ExpiryAction): Promise<number> {
    return (await this.#write(key, expiry, 'SETRANGE', offset, value)) as number
  }

  async strlen(key: string): Promise<number> {
    return (await this.#call(key, 'STRLEN')) as number
  }

  async push(key: string, end: ListEnd, values: readonly string[], expiry: ExpiryAction): Promise<number> {
    return (await this.#write(key, expiry, end === 'left' ? 'LPUSH' : 'RPUSH', ...values)) as number
  }

  async pop(key: string, end: ListEnd): Promise<string | undefined> {
    return ((await this.#call(key, end === 'left' ? 'LPOP' : 'RPOP')) as string | null) ?? undefined
  }

  async listRange(key: string, start: number, stop: number): Promise<string[]> {
    return (await this.#call(key, 'LRANGE', start, stop)) as string[]
  }

  async listLength(key: string): Promise<number> {
    return (await this.#call(key, 'LLEN')) as number
  }

  async setAdd(key: string, members: readonly string[], expiry: ExpiryAction): Promise<number> {
    return (await this.#write(key, expiry, 'SADD', ...members)) as number
  }

  async setRemove(key: string, members: readonly string[]): Promise<number> {
    return (await this.#call(key, 'SREM', ...members)) as number
  }

  async setContains(key: string, member: string): Promise<boolean> {
    return (await this.#call(key, 'SISMEMBER', member)) === 1
  }

  async setMembers(key: string): Promise<string[]> {
    return (await this.#call(key, 'SMEMBERS')) as string[]
  }

  async setSize(key: string): Promise<number> {
    return (await this.#call(key, 'SCARD')) as number
  }

  async clear(prefix: string): Promise<void> {
    await this.#layer.clear(prefix)
  }

  /** One command on one key; a change that must also set the expiry goes through `#write`. */
  #call(key: string, command: string, ...args: Arg[]): Promise<unknown> {
    const fullKey = this.#layer.storageKey(key)
    return this.#run(key, () => this.#layer.client.call(command, fullKey, ...args))
  }

  /** `command` and the expiry change: the bare command when the expiry stays as it is. */
  #write(key: string, expiry: ExpiryAction, command: string, ...args: Arg[]): Promise<unknown> {
    if (expiry === 'keep') return this.#call(key, command, ...args)
    return this.#script(key, WRITE, [...mode(expiry), command, ...args])
  }

  #script(key: string, script: RedisScript, args: Arg[]): Promise<unknown> {
    const fullKey = this.#layer.storageKey(key)
    return this.#run(key, () => runScript(this.#layer.client, script, [fullKey], args))
  }

  async #run<T>(key: string, send: () => Promise<T>): Promise<T> {
    try {
      return await this.#watch.run(send)
    } catch (error) {
      throw translate(key, error, this.#layer.name)
    }
  }
}

function mode(expiry: ExpiryAction): [string, number] {
  return expiry === 'keep' ? ['keep', 0] : expiry === 'persist' ? ['persist', 0] : ['px', expiry.px]
}

/** Redis's answers about the value become the errors the memory backend throws; the rest a `LayerError`. */
function translate(key: string, error: unknown, layer: string): Error {
  const message = error instanceof Error && error.name === 'ReplyError' ? error.message : ''
  if (message.includes('WRONGTYPE')) {
    return new KeyspaceTypeError(key, 'holds another kind of value (WRONGTYPE)', error)
  }
  if (message.includes('not an integer')) return new KeyspaceTypeError(key, 'does not hold an integer', error)
  if (message.includes('not a valid float'))
    return new KeyspaceTypeError(key, 'does not hold a number', error)
  if (message.includes('NaN or Infinity')) return nonFinite()
  return new LayerError(layer, 'keyspace', error)
}

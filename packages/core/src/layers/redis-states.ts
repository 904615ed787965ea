// Tag states in one round trip: a script per state key writes the new state unless Redis holds one with
// a later time (another instance invalidated since), which it answers instead. States only move forward,
// so the stack merges what it is answered and writes again; nothing is read before the common write.
import { createHash } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import type { Announcement, CacheEntry, LayerWrite, StateWriteResult } from '../layer.ts'
import { execPipeline, toPx } from './redis-commands.ts'

/**
 * KEYS[1] the state key; ARGV: the new entry as JSON text, PX ('' for none), keepAfter ('' for none),
 * '1' to write without comparing, the new hard and soft times, and optionally a pub/sub channel and a
 * message to publish on it (a bus message riding the write: published whatever the write does). Answers 0 when written, 1 when the
 * stored payload is not JSON text (another serializer wrote it), or the stored JSON when it holds a
 * later time than the new state. cjson only reads numbers here (exactly); what is written is the
 * client's own text, and the new entry is decoded only when the stored one has set invalidations.
 * The state keeps the longer of its remaining PTTL and the new one (no expiry stays no expiry).
 */
const WRITE_STATE = `
if ARGV[7] then redis.call('PUBLISH', ARGV[7], ARGV[8]) end
if ARGV[4] ~= '1' then
  local cur = redis.call('GET', KEYS[1])
  if cur then
    if string.byte(cur, 1) ~= 123 then return 1 end
    local ok, old = pcall(cjson.decode, cur)
    if ok and type(old) == 'table' and type(old.value) == 'table' then
      local o = old.value
      if (tonumber(o.hard) or 0) > tonumber(ARGV[5]) or (tonumber(o.soft) or 0) > tonumber(ARGV[6]) then return cur end
      if type(o.sets) == 'table' and next(o.sets) ~= nil then
        local keep = tonumber(ARGV[3])
        local new = cjson.decode(ARGV[1]).value
        local sets = type(new.sets) == 'table' and new.sets or {}
        for id, s in pairs(o.sets) do
          local h, so = tonumber(s.hard) or 0, tonumber(s.soft) or 0
          if not keep or math.max(h, so) >= keep then
            local n = sets[id]
            if type(n) ~= 'table' or h > n.hard or so > n.soft then return cur end
          end
        end
      end
    end
  end
end
local px = ARGV[2]
if px ~= '' then
  local left = redis.call('PTTL', KEYS[1])
  if left == -1 then px = '' elseif left > tonumber(px) then px = tostring(left) end
end
if px == '' then redis.call('SET', KEYS[1], ARGV[1]) else redis.call('SET', KEYS[1], ARGV[1], 'PX', px) end
return 0
`
const WRITE_STATE_SHA = createHash('sha1').update(WRITE_STATE).digest('hex')

/**
 * One script per state, pipelined (concurrent per key on a Cluster): the replies, in order. EVALSHA
 * first (the body is not sent nor hashed again); a server that does not know it yet gets EVAL.
 */
export async function writeStatesScript(
  client: Redis | Cluster,
  cluster: boolean,
  prefix: string,
  writes: readonly LayerWrite[],
  keepAfter: number | undefined,
  force: boolean,
  announce?: Announcement,
): Promise<unknown[]> {
  const args = writes.map(({ key, entry, ttl }, i) => {
    const state = entry.value as { hard: number; soft: number }
    const a = [
      prefix + key,
      JSON.stringify(entry),
      String(toPx(ttl) ?? ''),
      keepAfter === undefined ? '' : String(keepAfter),
      force ? '1' : '0',
      String(state.hard),
      String(state.soft),
    ]
    // The message rides the first state's script only: published once.
    if (announce && i === 0) a.push(announce.channel, announce.payload)
    return a
  })
  const send = (sha: boolean): Promise<unknown[]> => {
    // One state (the usual invalidation) is one command: a pipeline of one costs ~10 µs more per call.
    if (cluster || args.length === 1) {
      return Promise.all(
        args.map((a) => (sha ? client.evalsha(WRITE_STATE_SHA, 1, ...a) : client.eval(WRITE_STATE, 1, ...a))),
      )
    }
    const pipeline = (client as Redis).pipeline()
    for (const a of args) {
      if (sha) pipeline.evalsha(WRITE_STATE_SHA, 1, ...a)
      else pipeline.eval(WRITE_STATE, 1, ...a)
    }
    return execPipeline(pipeline)
  }
  // The first call on a client sends the body (which loads it): one command, not a refused EVALSHA first.
  if (!loaded.has(client)) {
    const replies = await send(false)
    loaded.add(client)
    return replies
  }
  try {
    return await send(true)
  } catch (error) {
    // A restarted or flushed server forgot the script.
    if (!String((error as Error | undefined)?.message).startsWith('NOSCRIPT')) throw error
    return send(false)
  }
}

/** Clients whose server has seen the script. */
const loaded = new WeakSet<object>()

/** A script reply as a `StateWriteResult`: 0 written; the stored JSON (later state); anything else unreadable. */
export function stateResult(reply: unknown): StateWriteResult {
  if (reply === 0) return { written: true }
  if (typeof reply !== 'string') return { written: false, stored: undefined }
  try {
    const stored = JSON.parse(reply) as CacheEntry
    return { written: false, stored: typeof stored?.value === 'object' ? stored : undefined }
  } catch {
    return { written: false, stored: undefined }
  }
}

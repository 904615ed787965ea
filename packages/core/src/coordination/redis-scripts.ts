// Lua scripts sent by their SHA-1 (EVALSHA), their source only when a server does not know them yet:
// a lock release or a rate-limit check then costs one short command, not the script's text every time.

import { createHash } from 'node:crypto'

/** A script and its SHA-1, computed once. */
export class RedisScript {
  readonly source: string
  readonly sha: string
  constructor(source: string) {
    this.source = source
    this.sha = createHash('sha1').update(source).digest('hex')
  }
}

/** What `runScript` needs of an ioredis `Redis` or `Cluster`. */
export interface ScriptClient {
  evalsha(sha: string, keys: number, ...args: (string | number | Buffer)[]): Promise<unknown>
  eval(script: string, keys: number, ...args: (string | number | Buffer)[]): Promise<unknown>
}

/**
 * Runs `script` on the node serving `keys` (a Cluster routes by the first key): EVALSHA, then EVAL once
 * when that node answers NOSCRIPT (a new node, a restart, `SCRIPT FLUSH`), which also loads it there.
 */
export async function runScript(
  client: ScriptClient,
  script: RedisScript,
  keys: readonly string[],
  args: readonly (string | number | Buffer)[],
): Promise<unknown> {
  try {
    return await client.evalsha(script.sha, keys.length, ...keys, ...args)
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
    return client.eval(script.source, keys.length, ...keys, ...args)
  }
}

import { Cluster, Redis, type RedisOptions } from 'ioredis'
import { CliError, oneLine } from './errors.ts'

/** An open connection to the Redis (single server or Cluster) a stack lives in. */
export interface Connection {
  readonly client: Redis | Cluster
  readonly cluster: boolean
  /** The URL as shown to the user: the password, if any, hidden. */
  readonly shown: string
  /** Every master (one for a single server): where keys live. */
  masters(): Redis[]
  /** Every node, replicas included: where pub/sub subscribers may be connected. */
  everyNode(): Redis[]
  close(): Promise<void>
}

/** The URL with its password replaced by `***`, for messages. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString().replace(/\/$/, '')
  } catch {
    return url
  }
}

/** Rejects with `what` when `promise` has not settled within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Connects to `url` within `timeout` ms and finds out whether it is a Cluster node (`INFO cluster`);
 * a Cluster is then reached through that node as its seed, every master found from it. No reconnects:
 * a CLI that lost Redis should say so at once, not retry in the background.
 */
export async function connect(url: string, timeout: number): Promise<Connection> {
  const shown = redact(url)
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new CliError('E_USAGE', `--redis: "${shown}" is not a URL (redis://host:port)`)
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new CliError('E_USAGE', `--redis: "${shown}" is not a redis:// or rediss:// URL`)
  }
  const options: RedisOptions = {
    lazyConnect: true,
    connectTimeout: timeout,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  }
  // ioredis rejects connect() with "Connection is closed."; the error event said why (ECONNREFUSED...).
  let reason: unknown
  const unreachable = (error: unknown) =>
    new CliError('E_UNREACHABLE', `cannot reach Redis at ${shown}: ${oneLine(reason ?? error)}`, {
      cause: reason ?? error,
    })
  const probe = new Redis(url, options)
  probe.on('error', (error) => {
    reason ??= error
  })
  let clusterEnabled: boolean
  try {
    await within(probe.connect(), timeout, 'Redis')
    clusterEnabled = /cluster_enabled:1/.test(await within(probe.info('cluster'), timeout, 'Redis'))
  } catch (error) {
    probe.disconnect()
    throw unreachable(error)
  }
  if (!clusterEnabled) return connection(probe, false, shown, timeout)
  probe.disconnect()
  const cluster = new Cluster([{ host: parsed.hostname, port: Number(parsed.port || 6379) }], {
    lazyConnect: true,
    clusterRetryStrategy: () => null,
    redisOptions: {
      connectTimeout: timeout,
      maxRetriesPerRequest: 1,
      username: decodeURIComponent(parsed.username) || undefined,
      password: decodeURIComponent(parsed.password) || undefined,
      tls: parsed.protocol === 'rediss:' ? {} : undefined,
    },
  })
  cluster.on('error', (error) => {
    reason ??= error
  })
  try {
    await within(cluster.connect(), timeout, 'the Redis Cluster')
  } catch (error) {
    cluster.disconnect()
    throw unreachable(error)
  }
  return connection(cluster, true, shown, timeout)
}

function connection(client: Redis | Cluster, cluster: boolean, shown: string, timeout: number): Connection {
  return {
    client,
    cluster,
    shown,
    masters: () => (cluster ? (client as Cluster).nodes('master') : [client as Redis]),
    everyNode: () => (cluster ? (client as Cluster).nodes('all') : [client as Redis]),
    async close() {
      await within(client.quit(), timeout, 'Redis').catch(() => {})
      client.disconnect()
    },
  }
}

// The apps of one framework of the HTTP scenarios (bench/src/http-apps.ts) alone in a process, with the
// bench's own Redis, for `node --cpu-prof` and A/B runs of two builds: prints `port <n>` for the
// cachestack app and `peer <n>` for the peer's, serves until SIGINT/SIGTERM.
// node --conditions=@cachestack/source [--cpu-prof] src/probe/http-serve.ts express|fastify|hono
import { type Framework, startApps } from '../http-apps.ts'
import { startBenchRedis } from '../redis-server.ts'

const redis = await startBenchRedis()
const apps = await startApps((process.argv[2] ?? 'express') as Framework, redis)
process.stdout.write(`port ${apps.apps.cachestack?.port}\npeer ${apps.apps.peer?.port}\n`)
const stop = async () => {
  await apps.close()
  await redis.stop()
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)

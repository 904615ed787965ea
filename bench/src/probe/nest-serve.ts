// A Nest bench app (bench/src/nest-apps.ts) alone in a process, for `node --cpu-prof` and for A/B runs
// of two builds: prints `port <n>` and serves until SIGINT/SIGTERM (then writes the CPU profile).
// node --conditions=@cachestack/source [--cpu-prof] src/probe/nest-serve.ts fastify|express
import { startNestApp } from '../nest-apps.ts'

const platform = process.argv[2] === 'express' ? 'express' : 'fastify'
const app = await startNestApp(platform)
process.stdout.write(`port ${app.port}\n`)
const stop = () => app.close().then(() => process.exit(0))
process.on('SIGINT', stop)
process.on('SIGTERM', stop)

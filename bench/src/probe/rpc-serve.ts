// One server of the tRPC/GraphQL scenarios (bench/src/rpc-apps.ts) alone in a process, for `node --cpu-prof`
// and A/B runs of two builds: prints `port <n>` and `path <one call's path>`, serves until SIGINT/SIGTERM.
// node --conditions=@cachestack/source [--cpu-prof] src/probe/rpc-serve.ts gql-cachestack|gql-yoga-cache|...
import { type RpcRole, startRpcApp } from '../rpc-apps.ts'

const app = await startRpcApp((process.argv[2] ?? 'gql-cachestack') as RpcRole)
process.stdout.write(`port ${app.port}\npath ${app.path('warm')}\n`)
const stop = () => app.close().then(() => process.exit(0))
process.on('SIGINT', stop)
process.on('SIGTERM', stop)

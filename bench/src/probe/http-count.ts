// Sends N GET requests to 127.0.0.1:PORT PATH on C keep-alive connections, C in flight, and exits: a fixed
// amount of server work to count with `callgrind_control -z` / `-d` around it (scratch cg.sh).
// node src/probe/http-count.ts PORT PATH N C
import { Agent, request } from 'node:http'

const [port, path, n, c] = process.argv.slice(2)
const total = Number(n)
const agent = new Agent({ keepAlive: true, maxSockets: Number(c ?? 8) })
let sent = 0
const one = () =>
  new Promise<void>((resolve, reject) => {
    const req = request({ agent, host: '127.0.0.1', port: Number(port), path }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`))
      res.resume()
      res.on('end', resolve)
    })
    req.on('error', reject)
    req.end()
  })
await Promise.all(
  Array.from({ length: Number(c ?? 8) }, async () => {
    while (sent < total) {
      sent++
      await one()
    }
  }),
)
agent.destroy()

import 'reflect-metadata'
import { NestFactory } from '@nestjs/core'
import { ExpressAdapter } from '@nestjs/platform-express'
import { FastifyAdapter } from '@nestjs/platform-fastify'
import { AppModule } from './app-module.ts'

const platform = process.env.PLATFORM === 'fastify' ? 'fastify' : 'express'
const app = await NestFactory.create(
  AppModule.with({ statsToken: process.env.STATS_TOKEN, redisUrl: process.env.REDIS_URL }),
  platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(),
  { logger: ['error', 'warn'] },
)
// SIGINT/SIGTERM close the server, then disconnect the stack.
app.enableShutdownHooks()
const port = Number(process.env.PORT ?? 3000)
await app.listen(port, '127.0.0.1')
const url = `http://127.0.0.1:${port}`
console.log(`nestjs-api (${platform}) listening on ${url}`)
console.log(`  try: curl -i ${url}/posts?page=1  (twice: MISS, then HIT)`)
if (process.env.STATS_TOKEN) console.log(`  stats: curl -H 'authorization: Bearer …' ${url}/cache/stats`)

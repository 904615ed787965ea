import 'reflect-metadata'
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo'
import { Injectable } from '@nestjs/common'
import { APP_INTERCEPTOR } from '@nestjs/core'
import { Args, GraphQLModule, Query, Resolver } from '@nestjs/graphql'
import { afterEach, expect, it, vi } from 'vitest'
import { CacheInterceptor } from './cache-interceptor.ts'
import { CacheStackModule } from './cache-stack-module.ts'
import { ItemsController, makeStack, type RunningApp, startApp } from './test-app.ts'

@Injectable()
@Resolver()
class GreetingResolver {
  calls = 0
  @Query('hello')
  hello(@Args('name') name: string) {
    this.calls++
    return `hello ${name} #${this.calls}`
  }
}

const apps: RunningApp[] = []
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close()
})

it('a global CacheInterceptor passes GraphQL resolvers through and still caches HTTP routes', async () => {
  const seen: string[] = []
  const original = CacheInterceptor.prototype.intercept
  const spy = vi.spyOn(CacheInterceptor.prototype, 'intercept').mockImplementation(function (
    this: CacheInterceptor,
    context,
    next,
  ) {
    seen.push(context.getType())
    return original.call(this, context, next)
  })
  try {
    const { cache, clock } = makeStack()
    const running = await startApp(
      'express',
      {
        imports: [
          CacheStackModule.forRoot({ cache }),
          GraphQLModule.forRoot<ApolloDriverConfig>({
            driver: ApolloDriver,
            typeDefs: 'type Query { hello(name: String!): String! }',
          }),
        ],
        controllers: [ItemsController],
        providers: [GreetingResolver, { provide: APP_INTERCEPTOR, useClass: CacheInterceptor }],
      },
      { cache, clock },
    )
    apps.push(running)
    const ask = () =>
      running.client.send(
        'POST',
        '/graphql',
        { 'content-type': 'application/json' },
        JSON.stringify({ query: '{ hello(name: "nest") }' }),
      )
    const first = await ask()
    const second = await ask()
    expect(first.status).toBe(200)
    expect(JSON.parse(first.text)).toEqual({ data: { hello: 'hello nest #1' } })
    expect(JSON.parse(second.text)).toEqual({ data: { hello: 'hello nest #2' } })
    expect(seen).toContain('graphql')
    await running.client.get('/items')
    expect((await running.client.get('/items')).headers['x-cache']).toBe('HIT')
  } finally {
    spy.mockRestore()
  }
})

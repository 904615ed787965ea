import { CacheStack } from '@cachestack/core'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import { describe, expectTypeOf, it } from 'vitest'
import cachestack, { type CachePluginOptions, type RouteCacheOptions } from './index.ts'

const app = Fastify()
const cache = new CacheStack()

describe('@cachestack/fastify types', () => {
  it('decorates fastify.cache with the stack', () => {
    expectTypeOf(app.cache).toEqualTypeOf<CacheStack>()
    app.get('/x', async function () {
      expectTypeOf(this.cache).toEqualTypeOf<CacheStack>()
      return 'x'
    })
  })

  it('registers with the stack, defaults and an optional stats route', () => {
    app.register(cachestack, {
      cache,
      ttl: '1m',
      stats: { authorize: (request) => request.ip === '127.0.0.1' },
    })
    expectTypeOf<CachePluginOptions['cache']>().toEqualTypeOf<CacheStack>()
    // @ts-expect-error the stack is required
    app.register(cachestack, { ttl: '1m' })
  })

  it('accepts config: { cache } on a route, true or options whose callbacks get Fastify types', () => {
    app.get('/a', { config: { cache: true } }, async () => 'a')
    app.get(
      '/b',
      {
        config: {
          cache: {
            ttl: '5m',
            tags: (request, reply) => {
              expectTypeOf(request).toEqualTypeOf<FastifyRequest>()
              expectTypeOf(reply).toEqualTypeOf<FastifyReply>()
              return ['posts']
            },
            session: (request) => request.headers.cookie,
          },
        },
      },
      async () => 'b',
    )
    // A hook sees any route, so its config is the declared augmentation, not one route's literal.
    app.addHook('onRequest', async (request) => {
      expectTypeOf(request.routeOptions.config.cache).toEqualTypeOf<RouteCacheOptions | boolean | undefined>()
    })
    app.post('/c', { config: { cache: { invalidates: (request) => [request.url] } } }, async () => 'c')
    // @ts-expect-error scope is 'public' or 'private'
    app.get('/d', { config: { cache: { scope: 'shared' } } }, async () => 'd')
    // @ts-expect-error tags are strings
    app.get('/e', { config: { cache: { tags: [1] } } }, async () => 'e')
  })
})

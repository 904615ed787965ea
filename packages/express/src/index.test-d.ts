import { CacheStack } from '@cachestack/core'
import express, { type Request, type RequestHandler, type Response } from 'express'
import { describe, expectTypeOf, it } from 'vitest'
import { cacheResponses, statsRoute } from './index.ts'

const cache = new CacheStack()

describe('@cachestack/express types', () => {
  it('gives callbacks the Express request and response', () => {
    const middleware = cacheResponses({
      cache,
      tags: (req, res) => {
        expectTypeOf(req).toEqualTypeOf<Request>()
        expectTypeOf(res).toEqualTypeOf<Response>()
        return [`post:${req.params.id}`]
      },
      invalidates: (req) => {
        expectTypeOf(req).toEqualTypeOf<Request>()
        return ['posts']
      },
      scope: 'private',
      session: (req) => req.headers.cookie,
      key: (req) => req.path,
      bypass: (req) => req.query.fresh === '1',
    })
    expectTypeOf(middleware).toEqualTypeOf<RequestHandler>()
    express().get('/posts/:id', middleware, (_req, res) => void res.json({}))
    expectTypeOf(statsRoute).returns.toEqualTypeOf<RequestHandler>()
    statsRoute({ cache, authorize: (req) => req.headers.authorization === 'Bearer x' })
  })

  it('refuses options of the wrong shape', () => {
    // @ts-expect-error the stack is required
    cacheResponses({ ttl: '1m' })
    // @ts-expect-error scope is 'public' or 'private'
    cacheResponses({ cache, scope: 'shared' })
    // @ts-expect-error tags are strings
    cacheResponses({ cache, tags: (req: Request) => [req.params] })
    // @ts-expect-error authorize is required
    statsRoute({ cache })
  })
})

import type { Server } from 'node:http'
import type { CacheStack } from '@cachestack/core'
import { cacheResponseMeta } from '@cachestack/trpc'
import { createHTTPServer } from '@trpc/server/adapters/standalone'
import type { PostsDb } from './posts-db.ts'
import { type Context, createRouter } from './router.ts'

/** The standalone tRPC server: `Authorization: Bearer <user>` names the caller. */
export function createServer(cache: CacheStack, db: PostsDb): Server {
  return createHTTPServer({
    router: createRouter(cache, db),
    createContext: ({ req }): Context => {
      const match = /^Bearer (\w+)$/.exec(req.headers.authorization ?? '')
      return { user: match?.[1] }
    },
    // Public cached batches get `Cache-Control: public, max-age=N`; anything private: no-store.
    responseMeta: cacheResponseMeta(),
  })
}

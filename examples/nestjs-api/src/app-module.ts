import { type CacheStack, MemoryLayer, RedisLayer } from '@cachestack/core'
import { CacheStackModule, type CacheStackModuleOptions } from '@cachestack/nestjs'
import { type DynamicModule, Module } from '@nestjs/common'
import { PostsController } from './posts-controller.ts'
import { PostsDb } from './posts-db.ts'
import { PostsService } from './posts-service.ts'

/** Options of the example app. */
export interface AppOptions {
  /** Token the stats route asks for (`Authorization: Bearer <token>`); no token, no stats. */
  statsToken?: string | undefined
  /** Memory in front of Redis when set. */
  redisUrl?: string | undefined
  /** A stack built elsewhere (tests pass one on a manual clock). */
  cache?: CacheStack
  /** Latency of each data source call. @default 100 */
  latencyMs?: number
}

/** The example's root module. */
@Module({})
// biome-ignore lint/complexity/noStaticOnlyClass: a Nest module is a class; a static factory is its idiom
export class AppModule {
  static with(options: AppOptions = {}): DynamicModule {
    const { statsToken, redisUrl, cache, latencyMs } = options
    const stats = statsToken
      ? {
          path: '/cache/stats',
          authorize: (req: { headers: Record<string, unknown> }) =>
            req.headers.authorization === `Bearer ${statsToken}`,
        }
      : undefined
    const stack: CacheStackModuleOptions = cache
      ? { cache }
      : {
          layers: redisUrl ? [new MemoryLayer(), new RedisLayer({ url: redisUrl })] : [new MemoryLayer()],
          ttl: '1m',
          grace: '10m',
        }
    return {
      module: AppModule,
      imports: [CacheStackModule.forRoot({ ...stack, ...(stats ? { stats } : {}) }, true)],
      controllers: [PostsController],
      providers: [{ provide: PostsDb, useValue: new PostsDb(latencyMs) }, PostsService],
    }
  }
}

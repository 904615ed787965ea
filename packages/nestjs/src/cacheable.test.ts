import 'reflect-metadata'
import { CacheStack, DisconnectedError, type Duration, MemoryLayer, ValidationError } from '@cachestack/core'
import { Controller, Get, Inject, Injectable, Module, NotFoundException, Param } from '@nestjs/common'
import { Test } from '@nestjs/testing'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { CacheStackModule } from './cache-stack-module.ts'
import { Cacheable } from './cacheable.ts'
import { InjectCache } from './inject-cache.ts'
import { InvalidateTags } from './invalidate-tags.ts'

@Injectable()
class PostsService {
  calls = 0
  gate: Promise<void> = Promise.resolve()

  @Cacheable({ key: 'posts', ttl: '1m', tags: ['posts'] })
  async list(page: number, filter?: { author?: string; tag?: string }) {
    this.calls++
    await this.gate
    return { page, filter: filter ?? null, call: this.calls }
  }

  @Cacheable({ key: (id: string) => `post:${id}`, tags: (_result: unknown, id: string) => [`post:${id}`] })
  async one(id: string) {
    this.calls++
    if (id === 'missing') throw new NotFoundException(`post ${id}`)
    return { id, call: this.calls }
  }

  @Cacheable()
  sync(value: number) {
    this.calls++
    return value * 2
  }

  @InvalidateTags('posts')
  async create() {
    return { created: true }
  }

  @InvalidateTags((_result: unknown, id: string) => [`post:${id}`])
  async update(id: string) {
    return { updated: id }
  }

  @InvalidateTags('posts')
  async failing() {
    throw new Error('write failed')
  }
}

@Injectable()
class Holder {
  readonly cache: CacheStack
  constructor(@InjectCache() cache: CacheStack) {
    this.cache = cache
  }
}

const closers: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const close of closers.splice(0)) await close()
})

async function boot(module: ReturnType<typeof CacheStackModule.forRoot>) {
  const ref = await Test.createTestingModule({
    imports: [module],
    providers: [PostsService, Holder],
  }).compile()
  const app = ref.createNestApplication({ logger: false })
  await app.init()
  closers.push(() => app.close())
  return { app, posts: app.get(PostsService), cache: app.get(Holder).cache }
}

describe('@Cacheable and @InvalidateTags', () => {
  it('caches one entry per canonical argument list and runs concurrent identical calls once', async () => {
    const { posts } = await boot(CacheStackModule.forRoot())
    let open: () => void = () => {}
    posts.gate = new Promise((resolve) => (open = resolve))
    const calls = Array.from({ length: 1_000 }, () => posts.list(1, { tag: 'a', author: 'x' }))
    // key order does not matter: {author, tag} and {tag, author} are one entry
    calls.push(posts.list(1, { author: 'x', tag: 'a' }))
    open()
    const results = await Promise.all(calls)
    expect(posts.calls).toBe(1)
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1)
    await posts.list(2)
    await posts.list(2)
    expect(posts.calls).toBe(2)
  })

  it('lets a throwing method throw its own error to every caller and caches nothing', async () => {
    const { posts } = await boot(CacheStackModule.forRoot())
    await expect(posts.one('missing')).rejects.toBeInstanceOf(NotFoundException)
    await expect(posts.one('missing')).rejects.toBeInstanceOf(NotFoundException)
    expect(posts.calls).toBe(2)
  })

  it('uses a key function and caches synchronous methods too', async () => {
    const { posts, cache } = await boot(CacheStackModule.forRoot())
    expect(await posts.one('7')).toEqual({ id: '7', call: 1 })
    expect(await cache.get('post:7')).toEqual({ id: '7', call: 1 })
    expect(await posts.sync(21)).toBe(42)
    expect(await posts.sync(21)).toBe(42)
    expect(posts.calls).toBe(2)
  })

  it('@InvalidateTags purges after success only, with tags from the result and arguments', async () => {
    const { posts } = await boot(CacheStackModule.forRoot())
    await posts.list(1)
    await posts.one('7')
    await posts.failing().catch(() => {})
    await posts.list(1)
    expect(posts.calls).toBe(2)
    await posts.create()
    await posts.list(1)
    expect(posts.calls).toBe(3)
    await posts.update('7')
    expect(await posts.one('7')).toEqual({ id: '7', call: 4 })
  })

  it('runs methods uncached on an instance no module started', async () => {
    const posts = new PostsService()
    await posts.sync(1)
    await posts.sync(1)
    expect(posts.calls).toBe(2)
  })
})

describe('CacheStackModule', () => {
  it('forRoot builds a stack from layers and options; @InjectCache injects it; app.close() disconnects it', async () => {
    const { app, cache } = await boot(CacheStackModule.forRoot({ layers: [new MemoryLayer()], ttl: '1m' }))
    expect(cache).toBeInstanceOf(CacheStack)
    await cache.set('k', 1)
    expect(await cache.get('k')).toBe(1)
    closers.length = 0
    await app.close()
    await expect(cache.get('k')).rejects.toBeInstanceOf(DisconnectedError)
  })

  it('forRoot takes a stack built elsewhere and refuses stack options beside it', async () => {
    const own = new CacheStack()
    const { cache } = await boot(CacheStackModule.forRoot({ cache: own }))
    expect(cache).toBe(own)
    await expect(
      Test.createTestingModule({
        imports: [CacheStackModule.forRoot({ cache: own, ttl: '1m' } as never)],
      }).compile(),
    ).rejects.toMatchObject({ name: 'ValidationError', option: 'ttl' })
  })

  it('forRootAsync injects what the factory needs and takes { cache } or stack options', async () => {
    const CONFIG = Symbol('config')
    @Module({ providers: [{ provide: CONFIG, useValue: { ttl: '5m' } }], exports: [CONFIG] })
    class ConfigModule {}
    const { cache } = await boot(
      CacheStackModule.forRootAsync({
        imports: [ConfigModule],
        inject: [CONFIG],
        useFactory: async (config: { ttl: Duration }) => ({ layers: [new MemoryLayer()], ttl: config.ttl }),
      }),
    )
    await cache.set('k', 'v')
    const inspected = await cache.inspect('k')
    expect(inspected).toBeDefined()
    const given = new CacheStack()
    const second = await boot(CacheStackModule.forRootAsync({ useFactory: () => ({ cache: given }) }))
    expect(second.cache).toBe(given)
  })

  it('checks options when the module is declared or built, naming the bad one', () => {
    expect(() => CacheStackModule.forRoot({ stats: { authorize: 'yes' } } as never)).toThrow(ValidationError)
    expect(() => CacheStackModule.forRoot({ stats: { path: '/s', authorise: () => true } } as never)).toThrow(
      /authorise/,
    )
    expect(() => Cacheable({ ttl: '1m', tag: ['x'] } as never)).toThrow(/"tag"/)
    expect(() => InvalidateTags()).toThrow(ValidationError)
  })

  it('disconnects on a shutdown signal with enableShutdownHooks', async () => {
    const ref = await Test.createTestingModule({
      imports: [CacheStackModule.forRoot()],
      providers: [Holder],
    }).compile()
    const app = ref.createNestApplication({ logger: false })
    app.enableShutdownHooks(['SIGUSR2'])
    await app.init()
    const cache = app.get(Holder).cache
    // Nest re-raises the signal once it has shut down; the spy keeps that from ending the test worker.
    const kill = vi.spyOn(process, 'kill').mockImplementation(() => true)
    try {
      process.emit('SIGUSR2', 'SIGUSR2')
      await expect.poll(() => kill.mock.calls.length).toBe(1)
      expect(kill).toHaveBeenCalledWith(process.pid, 'SIGUSR2')
      await expect(cache.get('x')).rejects.toBeInstanceOf(DisconnectedError)
    } finally {
      kill.mockRestore()
    }
  })
})

@Controller('posts')
class PostsController {
  readonly posts: PostsService
  constructor(@Inject(PostsService) posts: PostsService) {
    this.posts = posts
  }
  @Get(':id')
  one(@Param('id') id: string) {
    return this.posts.one(id)
  }
}

describe('@Cacheable behind a controller', () => {
  it('answers from the cache and lets the HttpException reach Nest unchanged', async () => {
    const ref = await Test.createTestingModule({
      imports: [CacheStackModule.forRoot()],
      controllers: [PostsController],
      providers: [PostsService],
    }).compile()
    const app = ref.createNestApplication({ logger: false })
    await app.listen(0, '127.0.0.1')
    closers.push(() => app.close())
    const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`
    const first = await fetch(`${base}/posts/3`).then((r) => r.json())
    const second = await fetch(`${base}/posts/3`).then((r) => r.json())
    expect(second).toEqual(first)
    const missing = await fetch(`${base}/posts/missing`)
    expect(missing.status).toBe(404)
    expect(await missing.json()).toMatchObject({ statusCode: 404, message: 'post missing' })
  })
})

import { Cacheable, InvalidateTags } from '@cachestack/nestjs'
import { Inject, Injectable, NotFoundException } from '@nestjs/common'
import { type Post, PostsDb } from './posts-db.ts'

/** Posts, read through the cache: each page and each post is one entry, tagged for invalidation. */
@Injectable()
export class PostsService {
  readonly #db: PostsDb

  constructor(@Inject(PostsDb) db: PostsDb) {
    this.#db = db
  }

  @Cacheable({ key: 'posts.page', ttl: '1m', tags: ['posts'] })
  async page(page: number): Promise<Post[]> {
    return this.#db.list(page)
  }

  @Cacheable({
    key: (id: number) => `post:${id}`,
    tags: (_post: Post, id: number) => ['posts', `post:${id}`],
  })
  async find(id: number): Promise<Post> {
    const post = await this.#db.find(id)
    if (!post) throw new NotFoundException(`no post ${id}`)
    return post
  }

  @InvalidateTags('posts')
  async create(title: string): Promise<Post> {
    return this.#db.create(title)
  }
}

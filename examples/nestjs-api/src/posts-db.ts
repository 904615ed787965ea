// A stand-in for a real database: every call takes `latencyMs`, which is what caching saves.

/** A blog post. */
export interface Post {
  id: number
  title: string
}

const PAGE_SIZE = 10

/** An in-memory posts table behind a slow connection; `queries` counts round trips. */
export class PostsDb {
  readonly #posts: Post[] = Array.from({ length: 25 }, (_, i) => ({ id: i + 1, title: `Post ${i + 1}` }))
  readonly #latencyMs: number
  queries = 0

  constructor(latencyMs = 100) {
    this.#latencyMs = latencyMs
  }

  #wait(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, this.#latencyMs))
  }

  async list(page: number): Promise<Post[]> {
    this.queries++
    await this.#wait()
    return this.#posts.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE)
  }

  async find(id: number): Promise<Post | undefined> {
    this.queries++
    await this.#wait()
    return this.#posts.find((post) => post.id === id)
  }

  async create(title: string): Promise<Post> {
    this.queries++
    await this.#wait()
    const post = { id: this.#posts.length + 1, title }
    this.#posts.push(post)
    return post
  }
}

// A stand-in for a real database: every call takes 100–300 ms, which is what caching saves.

/** A blog post. */
export interface Post {
  id: number
  title: string
}

const PAGE_SIZE = 10

function latency(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200))
}

/** An in-memory posts table behind a slow connection; `queries` counts round trips. */
export class PostsDb {
  readonly #posts: Post[] = Array.from({ length: 25 }, (_, i) => ({ id: i + 1, title: `Post ${i + 1}` }))
  queries = 0

  async list(page: number): Promise<Post[]> {
    this.queries++
    await latency()
    return this.#posts.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE)
  }

  async find(id: number): Promise<Post | undefined> {
    this.queries++
    await latency()
    return this.#posts.find((post) => post.id === id)
  }

  async create(title: string): Promise<Post> {
    this.queries++
    await latency()
    const post = { id: this.#posts.length + 1, title }
    this.#posts.push(post)
    return post
  }
}

// A stand-in for a real database: every call waits `latency` ms (100–300 by default), which is what
// caching saves. `queries` counts round trips.

/** A blog post; drafts belong to their author. */
export interface Post {
  id: number
  title: string
  author: string
  draft: boolean
}

/** An in-memory posts table behind a slow connection. */
export class PostsDb {
  readonly #posts: Post[] = Array.from({ length: 12 }, (_, i) => ({
    id: i + 1,
    title: `Post ${i + 1}`,
    author: i % 3 === 0 ? 'ada' : 'grace',
    draft: i % 4 === 3,
  }))
  readonly #latency: () => number
  queries = 0

  constructor(latency: () => number = () => 100 + Math.random() * 200) {
    this.#latency = latency
  }

  async #wait(): Promise<void> {
    this.queries++
    await new Promise((resolve) => setTimeout(resolve, this.#latency()))
  }

  async published(): Promise<Post[]> {
    await this.#wait()
    return this.#posts.filter((post) => !post.draft)
  }

  async find(id: number): Promise<Post | undefined> {
    await this.#wait()
    return this.#posts.find((post) => post.id === id && !post.draft)
  }

  async draftsOf(author: string): Promise<Post[]> {
    await this.#wait()
    return this.#posts.filter((post) => post.draft && post.author === author)
  }

  async create(author: string, title: string): Promise<Post> {
    await this.#wait()
    const post = { id: this.#posts.length + 1, title, author, draft: false }
    this.#posts.push(post)
    return post
  }
}

/** An author. */
export interface Author {
  id: string
  name: string
}

const AUTHORS: Record<string, Author> = {
  ada: { id: 'ada', name: 'Ada Lovelace' },
  grace: { id: 'grace', name: 'Grace Hopper' },
}

/** The authors table, as slow as the posts one. */
export class AuthorsDb {
  readonly #latency: () => number
  queries = 0
  constructor(latency: () => number = () => 100 + Math.random() * 200) {
    this.#latency = latency
  }
  async find(id: string): Promise<Author | undefined> {
    this.queries++
    await new Promise((resolve) => setTimeout(resolve, this.#latency()))
    return AUTHORS[id]
  }
}

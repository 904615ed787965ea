// A stand-in for a real database: every call takes 100–300 ms, which is what caching saves. Each query
// makes a `db.query` span, as a real driver's instrumentation would (a no-op unless TRACING=1).
import { trace } from '@opentelemetry/api'

/** A blog post. */
export interface Post {
  id: number
  title: string
}

const PAGE_SIZE = 10

const tracer = trace.getTracer('posts-db')

function latency(statement: string): Promise<void> {
  return tracer.startActiveSpan('db.query', { attributes: { 'db.statement': statement } }, (span) =>
    new Promise<void>((resolve) => setTimeout(resolve, 100 + Math.random() * 200)).finally(() => span.end()),
  )
}

/** An in-memory posts table behind a slow connection; `queries` counts round trips. */
export class PostsDb {
  readonly #posts: Post[] = Array.from({ length: 25 }, (_, i) => ({ id: i + 1, title: `Post ${i + 1}` }))
  queries = 0

  async list(page: number): Promise<Post[]> {
    this.queries++
    await latency('SELECT * FROM posts LIMIT 10 OFFSET ?')
    return this.#posts.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE)
  }

  async find(id: number): Promise<Post | undefined> {
    this.queries++
    await latency('SELECT * FROM posts WHERE id = ?')
    return this.#posts.find((post) => post.id === id)
  }

  async create(title: string): Promise<Post> {
    this.queries++
    await latency('INSERT INTO posts (title) VALUES (?)')
    const post = { id: this.#posts.length + 1, title }
    this.#posts.push(post)
    return post
  }
}

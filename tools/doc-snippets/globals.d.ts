// What the documentation's ```ts snippets take as given (an application's own objects). A new doc
// example that uses another free name declares it here, so every snippet still type-checks.
interface User {
  id: number
  name: string
  vip?: boolean
}
interface Post {
  id: number
  title: string
}
interface Product {
  id: string
  shopId: string
  draft: boolean
  volatile: boolean
}
interface NewPost {
  title: string
}
/** A framework's request type in the adapter-contract example. */
interface MyRequest {
  headers: Record<string, string | undefined>
}
interface Session {
  userId: string
}
declare const db: {
  users: {
    find(id: number): Promise<User>
    update(user: User): Promise<User>
  }
  product(id: number, options: { signal: AbortSignal }): Promise<Product | undefined>
  listPosts(query: unknown): Promise<Post[]>
  createPost(body: unknown): Promise<Post>
}
declare const id: number
declare const teamId: string
declare const settings: { theme: string }
declare const session: Session
declare const report: { rows: number[] }
declare const tile: Uint8Array
declare const user: User
declare const input: User
declare const value: string
declare const items: { id: string; name: string }[]
declare const url: string
declare const cache: import('@cachestack/core').CacheStack
declare const server: import('node:http').Server
declare const client: import('ioredis').Redis
declare const layers: import('@cachestack/core').CacheLayer[]
declare const sessions: import('@cachestack/core').CacheStack
declare const ctx: { userId?: string }
declare function search(query: string, page: number): Promise<Post[]>
declare function fetchLeaderboard(): Promise<{ name: string; score: number }[]>
declare function fetchPost(): Promise<Post>
declare const MyLayer: new () => import('@cachestack/core').CacheLayer

// @nestjs/config is not a dependency of this repository; the slice the Nest README uses.
declare module '@nestjs/config' {
  export class ConfigModule {}
  export class ConfigService {
    get<T = string>(key: string, fallback: T): T
    getOrThrow<T = string>(key: string): T
  }
}

import { CacheInterceptor, CacheTags, CacheTTL, InvalidateTags } from '@cachestack/nestjs'
import {
  Body,
  Controller,
  Get,
  Inject,
  Param,
  ParseIntPipe,
  Post,
  Query,
  UseInterceptors,
} from '@nestjs/common'
import { PostsService } from './posts-service.ts'

/** Whole responses cached by the interceptor; the service below caches the data as well. */
@Controller('posts')
@UseInterceptors(CacheInterceptor)
@CacheTags('posts')
export class PostsController {
  readonly #posts: PostsService

  constructor(@Inject(PostsService) posts: PostsService) {
    this.#posts = posts
  }

  @Get()
  @CacheTTL('30s')
  list(@Query('page') page = '1') {
    return this.#posts.page(Math.max(1, Number.parseInt(page, 10) || 1))
  }

  @Get(':id')
  one(@Param('id', ParseIntPipe) id: number) {
    return this.#posts.find(id)
  }

  // The cached pages are purged before the 201 reaches the client, so it reads its own write.
  @Post()
  @InvalidateTags('posts')
  create(@Body() body: { title?: string }) {
    return this.#posts.create(String(body?.title ?? 'Untitled'))
  }
}

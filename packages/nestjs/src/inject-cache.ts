import { Inject } from '@nestjs/common'
import { CACHE_STACK } from './tokens.ts'

/** Injects the module's `CacheStack`: `constructor(@InjectCache() cache: CacheStack)`. */
export function InjectCache(): PropertyDecorator & ParameterDecorator {
  return Inject(CACHE_STACK)
}

import { CacheStack } from './cache-stack.ts'
import { ValidationError } from './errors.ts'
import { assertKnownOptions, nearestName, optionNames } from './internal/known-options.ts'

/** Options of `createCacheManager`. */
export interface CacheManagerOptions<Stores extends Record<string, CacheStack>> {
  /** Name of the store the manager's own methods use. */
  default: keyof Stores & string
  /** Named stores. */
  stores: Stores
}

const MANAGER_OPTION_NAMES = optionNames<CacheManagerOptions<Record<string, CacheStack>>>({
  default: true,
  stores: true,
})

/**
 * Named stores, AdonisJS-style: `manager.use('sessions')` picks one, and the default store's methods are
 * available on the manager itself (`manager.get(...)`).
 */
export type CacheManager<Stores extends Record<string, CacheStack>> = CacheStack & {
  /** The store named `name`, or the default one. Throws `ValidationError` for an unknown name. */
  use(name?: keyof Stores & string): CacheStack
  /** Names of every store. */
  readonly storeNames: readonly (keyof Stores & string)[]
  /** Disconnects every store. */
  disconnectAll(): Promise<void>
}

/** Creates a manager over named stores; the default store's methods are the manager's own. */
export function createCacheManager<Stores extends Record<string, CacheStack>>(
  options: CacheManagerOptions<Stores>,
): CacheManager<Stores> {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('createCacheManager options must be { default, stores }', 'options')
  }
  assertKnownOptions(options, MANAGER_OPTION_NAMES, 'an option of createCacheManager()')
  const stores = options.stores
  if (!stores || typeof stores !== 'object' || Object.keys(stores).length === 0) {
    throw new ValidationError('"stores" must name at least one CacheStack', 'stores')
  }
  for (const [name, store] of Object.entries(stores)) {
    if (!(store instanceof CacheStack))
      throw new ValidationError(`Store "${name}" is not a CacheStack`, 'stores')
  }
  const fallback = stores[options.default]
  if (!fallback) {
    throw new ValidationError(`"default" names no store: "${String(options.default)}"`, 'default')
  }
  const use = (name?: string): CacheStack => {
    if (name === undefined) return fallback
    const store = stores[name]
    if (!store) {
      const nearest = nearestName(name, Object.keys(stores))
      const hint = nearest === undefined ? '' : `; did you mean "${nearest}"?`
      throw new ValidationError(`Unknown cache store "${name}"${hint}`, 'name')
    }
    return store
  }
  const extras = {
    use,
    storeNames: Object.keys(stores),
    disconnectAll: async () => {
      await Promise.all(Object.values(stores).map((store) => store.disconnect()))
    },
  }
  return new Proxy(fallback, {
    get(target, property) {
      if (Object.hasOwn(extras, property)) return extras[property as keyof typeof extras]
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  }) as unknown as CacheManager<Stores>
}

import type { StackEngine } from './engine.ts'
import { localSync } from './invalidation.ts'
import { type OperationContext, operationChannel, traced } from './tracing.ts'

/**
 * One view of a stack: the root (`namespace` `''`) or a namespace of it. Every view of a stack shares its
 * engine; a view only adds its key prefix and its place in tracing messages.
 */
export class StackView {
  readonly engine: StackEngine
  /** The namespace path: `''` for the root, `'users:'`, `'users:admins:'`... */
  readonly namespace: string
  /** The root `CacheStack`: tracing messages name it, so a subscriber can tell stacks apart. */
  root: object

  constructor(engine: StackEngine, namespace: string, root: object) {
    this.engine = engine
    this.namespace = namespace
    this.root = root
  }

  /** A nested view: `a:` then `a:b:`. */
  child(prefix: string): StackView {
    return new StackView(this.engine, `${this.namespace}${prefix}:`, this.root)
  }

  /** The key as stored: generation prefix + namespace path + key. */
  full(key: string): string {
    const generation = this.engine.generationPrefix
    return generation === '' && this.namespace === '' ? key : generation + this.namespace + key
  }

  /** The key as tracing and events show it: namespace path + key, no generation prefix. */
  visible(key: unknown): string | undefined {
    return typeof key === 'string' ? this.namespace + key : undefined
  }

  /** Runs `run` as a traced operation; the message is built only when somebody subscribes. */
  trace<R>(
    message: () => Omit<OperationContext, 'namespace' | 'cache'>,
    run: (context?: OperationContext) => Promise<R>,
  ): Promise<R> {
    if (!operationChannel.hasSubscribers) return run()
    const context = { ...message(), namespace: this.namespace, cache: this.root } as OperationContext
    return traced(context, () => run(context))
  }
}

/** A namespace view is ready when its root is: its own `ready()` only pings the layers. */
export const VIEW_READY: Promise<void> = Promise.resolve()

/** Starts a root stack's bus subscription and generation load; failures become `error` events. */
export function startRoot(engine: StackEngine): Promise<void> {
  const ready = Promise.all([engine.sync.start(localSync(engine)), engine.loadGeneration()]).then(
    () => undefined,
  )
  ready.catch((error) => engine.emitter.emitError(error, 'ready'))
  return ready
}

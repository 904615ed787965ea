import type { GraphQLResolveInfo } from 'graphql'

/** A GraphQL field resolver as graphql-js, graphql-yoga and Apollo Server call it. */
export type FieldResolver<TParent = any, TArgs = any, TContext = any, TResult = unknown> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo,
) => TResult | Promise<TResult>

/** What an operation cache gets as its context: the resolver's four arguments. */
export interface ResolverCall<TParent, TArgs, TContext> {
  parent: TParent
  args: TArgs
  context: TContext
  info: GraphQLResolveInfo
}

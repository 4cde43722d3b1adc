// modelProviders: the catalog as credential and provider forms need it (admins and viewers).
import type { GraphQLResolveInfo } from 'graphql';
import { Ctx, Info, Query, Resolver } from 'type-graphql';
import type { Context } from '../context';
import { listModelProviders, type ModelProviderInfo } from './model-provider-info';
import { ModelProviderInfoType } from './model-provider-info.type';

@Resolver()
export class ModelProviderInfoResolver {
  @Query(() => [ModelProviderInfoType], { description: "Every model provider, in the ModelProvider enum's order." })
  async modelProviders(@Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<ModelProviderInfo[]> {
    return listModelProviders(await ctx.principal(), info.schema);
  }
}

// Thin GraphQL resolvers for providers, and Provider's batched fields.
import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { AuthTypeEnum } from '../catalog/catalog.enums';
import type { AuthType } from '../catalog/model-provider-catalog';
import type { Context } from '../context';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../pagination/page-cursor';
import type { Credential } from '../credentials/credential.model';
import { CredentialType } from '../credentials/credential.type';
import { CreateProviderInput, UpdateProviderInput } from './provider.inputs';
import type { Provider } from './provider.model';
import { ProviderConnection, ProviderType } from './provider.type';

@Resolver(() => ProviderType)
export class ProviderResolver {
  @Query(() => ProviderType, { nullable: true, description: "One of your organization's providers; NOT_FOUND otherwise." })
  async provider(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Provider> {
    return ctx.services.providers.get(await ctx.principal(), id);
  }

  @Query(() => ProviderConnection, { description: `Ordered by creation time; first is capped at ${MAX_PAGE_SIZE}.` })
  async providers(
    @Arg('first', () => Int, { nullable: true, defaultValue: DEFAULT_PAGE_SIZE }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: Context,
  ): Promise<ProviderConnection> {
    const connection = await ctx.services.providers.list(await ctx.principal(), { first, after });
    for (const { node } of connection.edges) ctx.loaders.providerById.prime(node.id, node);
    return connection;
  }

  @Mutation(() => ProviderType)
  async createProvider(@Arg('input', () => CreateProviderInput) input: CreateProviderInput, @Ctx() ctx: Context): Promise<Provider> {
    return ctx.services.idempotentCreates.createProvider(await ctx.principal(), input, ctx.idempotencyKey);
  }

  @Mutation(() => ProviderType, {
    description:
      'A field given replaces the stored value; credentialId or oauthPassthrough repoints the route, seen by the runtime route at once.',
  })
  async updateProvider(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateProviderInput) input: UpdateProviderInput,
    @Ctx() ctx: Context,
  ): Promise<Provider> {
    return ctx.services.providers.update(await ctx.principal(), id, input);
  }

  @Mutation(() => ID)
  async deleteProvider(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<string> {
    return ctx.services.providers.delete(await ctx.principal(), id);
  }

  @FieldResolver(() => CredentialType, { nullable: true, description: 'Null for OAUTH_PASSTHROUGH.' })
  async credential(@Root() provider: Provider, @Ctx() ctx: Context): Promise<Credential | null> {
    return provider.credentialId ? ctx.loaders.credentialById.load(provider.credentialId) : null;
  }

  @FieldResolver(() => AuthTypeEnum, { description: "The credential's auth type, or OAUTH_PASSTHROUGH." })
  async authType(@Root() provider: Provider, @Ctx() ctx: Context): Promise<AuthType> {
    if (!provider.credentialId) return 'OAUTH_PASSTHROUGH';
    const credential = await ctx.loaders.credentialById.load(provider.credentialId);
    // The foreign key keeps the credential alive while this provider exists.
    if (!credential) throw new Error(`provider ${provider.id} references a missing credential`);
    return credential.authType;
  }
}

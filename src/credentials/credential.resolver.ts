// Thin GraphQL resolvers for credentials: unwrap arguments, call the service.
import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ModelProviderEnum } from '../catalog/catalog.enums';
import type { ModelProvider } from '../catalog/model-provider-catalog';
import type { Context } from '../context';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../pagination/page-cursor';
import type { Provider } from '../providers/provider.model';
import { ProviderType } from '../providers/provider.type';
import { CreateCredentialInput, UpdateCredentialInput } from './credential.inputs';
import type { Credential } from './credential.model';
import type { AwsTrustInfo } from './credential.service';
import { AwsRoleConfigType, AwsTrustInfoType, CredentialConnection, CredentialType } from './credential.type';

@Resolver(() => CredentialType)
export class CredentialResolver {
  @Query(() => CredentialType, { nullable: true, description: "One of your organization's credentials; NOT_FOUND otherwise." })
  async credential(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Credential> {
    return ctx.services.credentials.get(await ctx.principal(), id);
  }

  @Query(() => CredentialConnection, { description: `Ordered by creation time; first is capped at ${MAX_PAGE_SIZE}.` })
  async credentials(
    @Arg('first', () => Int, { nullable: true, defaultValue: DEFAULT_PAGE_SIZE }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('modelProvider', () => ModelProviderEnum, { nullable: true }) modelProvider: ModelProvider | null,
    @Ctx() ctx: Context,
  ): Promise<CredentialConnection> {
    const connection = await ctx.services.credentials.list(await ctx.principal(), { first, after, modelProvider });
    // Nested fields (Provider.credential) then find these in the loader instead of asking again.
    for (const { node } of connection.edges) ctx.loaders.credentialById.prime(node.id, node);
    return connection;
  }

  @Query(() => AwsTrustInfoType, { description: 'The trust policy values of an AWS_ROLE credential; BAD_USER_INPUT for other auth types.' })
  async awsTrustInfo(@Arg('credentialId', () => ID) credentialId: string, @Ctx() ctx: Context): Promise<AwsTrustInfo> {
    return ctx.services.credentials.awsTrustInfo(await ctx.principal(), credentialId);
  }

  @Query(() => AwsRoleConfigType)
  async awsRoleConfig(@Ctx() ctx: Context): Promise<AwsRoleConfigType> {
    return ctx.services.credentials.awsRoleConfig(await ctx.principal());
  }

  @Mutation(() => CredentialType)
  async createCredential(
    @Arg('input', () => CreateCredentialInput) input: CreateCredentialInput,
    @Ctx() ctx: Context,
  ): Promise<Credential> {
    return ctx.services.idempotentCreates.createCredential(await ctx.principal(), input, ctx.idempotencyKey);
  }

  @Mutation(() => CredentialType, { description: 'A field given replaces the stored value; auth present rotates the secret.' })
  async updateCredential(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateCredentialInput) input: UpdateCredentialInput,
    @Ctx() ctx: Context,
  ): Promise<Credential> {
    return ctx.services.credentials.update(await ctx.principal(), id, input);
  }

  @Mutation(() => ID)
  async deleteCredential(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<string> {
    return ctx.services.credentials.delete(await ctx.principal(), id);
  }

  @FieldResolver(() => [ProviderType], { description: 'The routes this credential backs.' })
  async providers(@Root() credential: Credential, @Ctx() ctx: Context): Promise<Provider[]> {
    return ctx.loaders.providersByCredentialId.load(credential.id);
  }
}

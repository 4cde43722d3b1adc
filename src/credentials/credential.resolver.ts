// Thin GraphQL resolvers for credentials: unwrap arguments, call the service.
import type { FieldNode, GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, FieldResolver, ID, Info, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ModelProviderEnum } from '../catalog/catalog.enums';
import type { ModelProvider } from '../catalog/model-provider-catalog';
import type { Context } from '../context';
import type { Connection } from '../pagination/connection';
import { selectedFields, selectedNodeFields } from '../pagination/node-selection';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../pagination/page-cursor';
import type { Provider, SelectedProvider } from '../providers/provider.model';
import { isProviderField } from '../providers/provider.repository';
import { ProviderType } from '../providers/provider.type';
import { CreateCredentialInput, UpdateCredentialInput } from './credential.inputs';
import type { Credential, SelectedCredential } from './credential.model';
import { isCredentialField } from './credential.repository';
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
    @Info() info: GraphQLResolveInfo,
  ): Promise<Connection<SelectedCredential>> {
    const principal = await ctx.principal();
    const fields = pageFieldsFor(info);
    // The nodes hold the fields the selection shows and no other: GraphQL reads nothing else of them.
    if (fields !== undefined) return ctx.services.credentials.list(principal, { first, after, modelProvider, fields });
    const connection = await ctx.services.credentials.list(principal, { first, after, modelProvider });
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
  async providers(@Root() credential: Credential, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<SelectedProvider[]> {
    return ctx.loaders.providersByCredentialId(providerFieldsFor(info)).load(credential.id);
  }
}

/**
 * The Credential fields a `credentials` page reads for what its selection shows of the nodes.
 * Undefined (every field, and the nodes go into the loader) when it selects a field that is not a
 * plain field of Credential, or providers with their credential or auth type: those load the
 * credential again by id, and find it in the loader.
 */
function pageFieldsFor(info: GraphQLResolveInfo): (keyof Credential)[] | undefined {
  const fields: (keyof Credential)[] = [];
  for (const [name, selection] of selectedNodeFields(info)) {
    if (name === 'providers') {
      const nested = selectedFields(selection);
      if (nested.has('credential') || nested.has('authType')) return undefined;
      continue;
    }
    if (!isCredentialField(name)) return undefined;
    fields.push(name);
  }
  return fields;
}

/** providerFieldsFor's answer per selection: a page resolves the same selection once per credential. */
const providerFieldsBySelection = new WeakMap<FieldNode, (keyof Provider)[] | undefined>();

/**
 * The Provider fields Credential.providers reads for what its selection shows; undefined (every
 * field) when it selects one that is neither a plain field of Provider nor `credential` or
 * `authType` (which need only the credential id, always read).
 */
function providerFieldsFor(info: GraphQLResolveInfo): (keyof Provider)[] | undefined {
  const selection = info.fieldNodes.length === 1 ? info.fieldNodes[0] : undefined;
  if (selection && providerFieldsBySelection.has(selection)) return providerFieldsBySelection.get(selection);
  let fields: (keyof Provider)[] | undefined = [];
  for (const name of selectedFields(info).keys()) {
    if (name === 'credential' || name === 'authType') continue;
    if (!isProviderField(name)) {
      fields = undefined;
      break;
    }
    fields.push(name);
  }
  if (selection) providerFieldsBySelection.set(selection, fields);
  return fields;
}

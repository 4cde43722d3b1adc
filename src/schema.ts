// Builds the served schema: type-graphql resolvers turned into an Apollo Federation 2 subgraph
// (`@key` on Credential and Provider, `__resolveReference` through the request's loaders).
// type-graphql cannot declare @oneOf inputs, so the built types are marked afterwards: with
// isOneOf set, graphql-js enforces exactly one member for literals and variables alike.
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { type GraphQLSchema, isInputObjectType, parse } from 'graphql';
import { buildSchema, createResolversMap } from 'type-graphql';
import type { Context } from './context';
import { CredentialResolver } from './credentials/credential.resolver';
import { ProviderResolver } from './providers/provider.resolver';
import { ValidationResolver } from './validation/validation.resolver';

export const ONE_OF_INPUTS = ['CredentialAuthInput', 'AwsRoleValidationInput', 'GoogleVertexValidationInput'] as const;

/** Federation 2 link; @oneOf is declared so that composition knows the directive. */
const SUBGRAPH_HEADER = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

directive @oneOf on INPUT_OBJECT
`;

export async function createSchema(): Promise<GraphQLSchema> {
  const typeGraphqlSchema = await buildSchema({
    resolvers: [CredentialResolver, ProviderResolver, ValidationResolver],
    validate: false,
    emitSchemaFile: false,
  });
  const resolvers = createResolversMap(typeGraphqlSchema) as GraphQLResolverMap<Context>;
  const entityResolvers: GraphQLResolverMap<Context> = {
    Credential: {
      __resolveReference: (reference: { id: string }, ctx: Context) => ctx.loaders.credentialById.load(reference.id),
    },
    Provider: {
      __resolveReference: (reference: { id: string }, ctx: Context) => ctx.loaders.providerById.load(reference.id),
    },
  };
  const schema = buildSubgraphSchema({
    typeDefs: parse(SUBGRAPH_HEADER + printSchemaWithDirectives(typeGraphqlSchema)),
    resolvers: mergeResolvers(resolvers, entityResolvers) as GraphQLResolverMap<unknown>,
  });
  for (const name of ONE_OF_INPUTS) {
    const type = schema.getType(name);
    if (!isInputObjectType(type)) throw new Error(`schema has no input type ${name}`);
    type.isOneOf = true;
  }
  return schema;
}

function mergeResolvers(base: GraphQLResolverMap<Context>, extra: GraphQLResolverMap<Context>): GraphQLResolverMap<Context> {
  const merged: GraphQLResolverMap<Context> = { ...base };
  for (const [typeName, fields] of Object.entries(extra)) {
    merged[typeName] = { ...(base[typeName] as object), ...(fields as object) };
  }
  return merged;
}

// Builds the GraphQL schema from the type-graphql resolvers and marks the @oneOf inputs, which
// type-graphql cannot declare itself: with isOneOf set, graphql-js enforces exactly one member
// for literals and variables alike, and printSchema shows @oneOf.
import { type GraphQLSchema, isInputObjectType } from 'graphql';
import { buildSchema } from 'type-graphql';
import { CredentialResolver } from './credentials/credential.resolver';

export const ONE_OF_INPUTS = ['CredentialAuthInput'] as const;

export async function createSchema(): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: [CredentialResolver],
    validate: false,
    emitSchemaFile: false,
  });
  for (const name of ONE_OF_INPUTS) {
    const type = schema.getType(name);
    if (!isInputObjectType(type)) throw new Error(`schema has no input type ${name}`);
    type.isOneOf = true;
  }
  return schema;
}

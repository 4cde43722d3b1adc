// Builds the served schema: type-graphql resolvers turned into an Apollo Federation 2 subgraph
// (`@key` on Credential and Provider, `__resolveReference` through the request's loaders;
// `@shareable` on the Relay value types every paginating subgraph defines, see
// src/pagination/page-info.type.ts). type-graphql prints `@Directive(...)` as written, so each
// federation directive used there must be imported by the link below.
// type-graphql cannot make an input @oneOf, only print the directive (`@Directive('@oneOf')`);
// every input that carries it is marked afterwards, so graphql-js enforces exactly one member
// for literals and variables alike. `_entities` checks its representations before resolving them.
import { buildSubgraphSchema } from '@apollo/subgraph';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { type GraphQLSchema, isInputObjectType, parse } from 'graphql';
import { buildSchema, createResolversMap } from 'type-graphql';
import { credentialReferenceResolvers } from './credentials/credential.reference';
import { AuditResolver } from './audit/audit.resolver';
import { ModelProviderInfoResolver } from './catalog/model-provider-info.resolver';
import { CredentialResolver } from './credentials/credential.resolver';
import { providerReferenceResolvers } from './providers/provider.reference';
import { ProviderResolver } from './providers/provider.resolver';
import { guardEntityRepresentations } from './request-guards/entity-representations';
import { ValidationResolver } from './validation/validation.resolver';

/** The resolver map buildSubgraphSchema takes, derived from its signature (the package exports no name for it). */
type SubgraphResolvers = NonNullable<Extract<Parameters<typeof buildSubgraphSchema>[0], { resolvers?: unknown }>['resolvers']>;

/** Federation 2 link; @oneOf is declared so that composition knows the directive. */
const SUBGRAPH_HEADER = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])

directive @oneOf on INPUT_OBJECT
`;

export async function createSchema(): Promise<GraphQLSchema> {
  const typeGraphqlSchema = await buildSchema({
    resolvers: [AuditResolver, CredentialResolver, ModelProviderInfoResolver, ProviderResolver, ValidationResolver],
    validate: false,
    emitSchemaFile: false,
    // type-graphql's own check runs a full introspection query over the new schema (a third of this
    // function's time); the subgraph built from its printed SDL below is validated by federation
    // anyway, and test/unit/schema holds the result to schema.graphql.
    skipCheck: true,
  });
  const schema = buildSubgraphSchema({
    typeDefs: parse(SUBGRAPH_HEADER + printSchemaWithDirectives(typeGraphqlSchema)),
    resolvers: withReferenceResolvers(createResolversMap(typeGraphqlSchema), credentialReferenceResolvers, providerReferenceResolvers),
  });
  for (const name of oneOfInputNames(schema)) {
    const type = schema.getType(name);
    if (isInputObjectType(type)) type.isOneOf = true;
  }
  guardEntityRepresentations(schema);
  return schema;
}

/** The input types whose definition carries `@oneOf`. */
export function oneOfInputNames(schema: GraphQLSchema): string[] {
  return Object.values(schema.getTypeMap())
    .filter(isInputObjectType)
    .filter((type) => type.astNode?.directives?.some((directive) => directive.name.value === 'oneOf'))
    .map((type) => type.name);
}

/** type-graphql's resolver map with the entity reference resolvers added to their types. */
function withReferenceResolvers(base: object, ...references: Record<string, object>[]): SubgraphResolvers {
  const merged: Record<string, unknown> = { ...base };
  for (const reference of references) {
    for (const [typeName, fields] of Object.entries(reference)) {
      merged[typeName] = { ...(merged[typeName] as object | undefined), ...fields };
    }
  }
  return merged as SubgraphResolvers;
}

// The Provider GraphQL type (a gateway route) and its connection.
import { GraphQLDateTime, GraphQLJSONObject } from 'graphql-scalars';
import { Directive, Field, ID, ObjectType } from 'type-graphql';
import { ModelProviderEnum } from '../catalog/catalog.enums';
import type { ModelProvider } from '../catalog/model-provider-catalog';
import { connectionTypes } from '../pagination/connection.type';

@Directive('@key(fields: "id")')
@ObjectType('Provider', { description: 'A route of the gateway; one credential can back many providers.' })
export class ProviderType {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  organizationId!: string;

  @Field(() => String)
  name!: string;

  @Field(() => ModelProviderEnum)
  modelProvider!: ModelProvider;

  @Field(() => GraphQLJSONObject)
  settings!: Record<string, unknown>;

  @Field(() => GraphQLDateTime)
  createdAt!: Date;

  @Field(() => GraphQLDateTime, { description: 'The latest write: creation, or the latest updateProvider.' })
  updatedAt!: Date;
}

const providerConnection = connectionTypes(ProviderType, 'Provider', "All of the organization's providers, across pages.");
export const ProviderConnection = providerConnection.Connection;
export type ProviderConnection = InstanceType<typeof providerConnection.Connection>;

// The Provider GraphQL type (a gateway route) and its connection.
import { GraphQLDateTime, GraphQLJSONObject } from 'graphql-scalars';
import { Directive, Field, ID, Int, ObjectType } from 'type-graphql';
import { ModelProviderEnum } from '../catalog/catalog.enums';
import type { ModelProvider } from '../catalog/provider-catalog';
import { PageInfo } from '../pagination/page-info.type';

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
}

@ObjectType()
export class ProviderEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => ProviderType)
  node!: ProviderType;
}

@ObjectType()
export class ProviderConnection {
  @Field(() => [ProviderEdge])
  edges!: ProviderEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int)
  totalCount!: number;
}

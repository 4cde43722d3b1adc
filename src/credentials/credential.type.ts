// The Credential GraphQL type and its connection. Only metadata: no field can carry a secret.
import { GraphQLDateTime, GraphQLJSONObject } from 'graphql-scalars';
import { Directive, Field, ID, Int, ObjectType } from 'type-graphql';
import { AuthTypeEnum, ModelProviderEnum } from '../catalog/catalog.enums';
import type { AuthType, ModelProvider } from '../catalog/model-provider-catalog';
import { connectionTypes } from '../pagination/connection.type';

@Directive('@key(fields: "id")')
@ObjectType('Credential', { description: 'An upstream credential. Its secret is write-only: no field returns it.' })
export class CredentialType {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  organizationId!: string;

  @Field(() => String)
  name!: string;

  @Field(() => ModelProviderEnum)
  modelProvider!: ModelProvider;

  @Field(() => AuthTypeEnum)
  authType!: AuthType;

  @Field(() => String)
  baseUrl!: string;

  @Field(() => GraphQLJSONObject, { description: 'Non-secret settings (region, project_id, api_version, ...).' })
  settings!: Record<string, unknown>;

  @Field(() => String, { nullable: true, description: 'Last 4 characters of an API key (API_KEY, BEDROCK_API_KEY); null otherwise.' })
  keyLast4!: string | null;

  @Field(() => Boolean, { description: 'False for GOOGLE_ADC (ambient identity); true when a secret is stored.' })
  storesKeyMaterial!: boolean;

  @Field(() => Int, { description: '1 on create, +1 on every rotation.' })
  secretVersion!: number;

  @Field(() => GraphQLDateTime)
  secretRotatedAt!: Date;

  @Field(() => GraphQLDateTime)
  createdAt!: Date;

  @Field(() => GraphQLDateTime)
  updatedAt!: Date;

  @Field(() => String, { description: 'The user (token sub) who created it.' })
  createdBy!: string;

  @Field(() => String, { description: 'The user (token sub) who wrote it last.' })
  updatedBy!: string;

  @Field(() => String, { nullable: true, description: 'The changeNote of the latest write; null when it gave none.' })
  lastChangeNote!: string | null;

  @Field(() => GraphQLDateTime, {
    nullable: true,
    description: 'The latest resolve through the runtime route (written at most once a minute); null until then.',
  })
  lastUsedAt!: Date | null;
}

@ObjectType('AwsTrustInfo', { description: "What an AWS_ROLE credential's trust policy must allow. Nothing in it is secret." })
export class AwsTrustInfoType {
  @Field(() => String, {
    nullable: true,
    description: 'The external id the vault generated for this credential (sts:ExternalId); null when the admin supplied their own.',
  })
  externalId!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'The AWS principal the gateway assumes roles from (AWS_PRINCIPAL_ARN); null when not configured.',
  })
  principalArn!: string | null;
}

@ObjectType('AwsRoleConfig', { description: "Whether this vault has an AWS identity for customers' role trust policies." })
export class AwsRoleConfigType {
  @Field(() => Boolean)
  configured!: boolean;

  @Field(() => String, { nullable: true })
  principalArn!: string | null;
}

const credentialConnection = connectionTypes(CredentialType, 'Credential', 'All credentials matching the filter, across pages.');
export const CredentialConnection = credentialConnection.Connection;
export type CredentialConnection = InstanceType<typeof credentialConnection.Connection>;

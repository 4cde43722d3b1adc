// The modelProviders answer as GraphQL types: what a portal renders its credential and provider forms from.
import { Field, ObjectType } from 'type-graphql';
import type { AuthType, ModelProvider, SettingsKey } from './model-provider-catalog';
import { AuthTypeEnum, ModelProviderEnum } from './catalog.enums';
import type { AuthFieldInfo, AuthTypeInfo, ModelProviderInfo } from './model-provider-info';

@ObjectType('AuthFieldInfo', { description: 'A field of an auth input member.' })
export class AuthFieldInfoType implements AuthFieldInfo {
  @Field(() => String, { description: 'The input field: apiKey, iamRoleArn, privateKey, ...' })
  name!: string;

  @Field(() => String, { description: 'A human label: "API key", "IAM role ARN".' })
  label!: string;

  @Field(() => Boolean, { description: 'Write-only: the value is never shown again.' })
  secret!: boolean;

  @Field(() => Boolean, { description: 'Non-null in the input: createCredential refuses the member without it.' })
  required!: boolean;

  @Field(() => Boolean, { description: 'Several lines of text, such as a PEM key.' })
  multiline!: boolean;

  @Field(() => String, { nullable: true, description: 'What the field holds, or the format expected.' })
  description!: string | null;
}

@ObjectType('AuthTypeInfo', { description: 'An auth type a model provider takes, and the input member that carries it.' })
export class AuthTypeInfoType implements AuthTypeInfo {
  @Field(() => AuthTypeEnum)
  authType!: AuthType;

  @Field(() => String, {
    description:
      'The member of CredentialAuthInput that selects this auth type: apiKey, awsRole, googleServiceAccount, ... (GOOGLE_SERVICE_ACCOUNT may also be given whole as googleServiceAccountKeyFile).',
  })
  inputMember!: AuthTypeInfo['inputMember'];

  @Field(() => [AuthFieldInfoType], { description: "The member's fields, in the input's order." })
  fields!: AuthFieldInfoType[];
}

@ObjectType('SettingsKeyInfo', { description: "A key of a credential's settings that the service reads." })
export class SettingsKeyInfoType implements SettingsKey {
  @Field(() => String, { description: 'region, location, project_id, ...' })
  key!: string;

  @Field(() => String, { nullable: true })
  description!: string;

  @Field(() => Boolean)
  required!: boolean;
}

@ObjectType('ModelProviderInfo', { description: 'A model vendor as the catalog describes it: what its credentials take.' })
export class ModelProviderInfoType implements ModelProviderInfo {
  @Field(() => String, { description: 'The stored slug: openai, azure_openai, ...' })
  slug!: string;

  @Field(() => ModelProviderEnum)
  modelProvider!: ModelProvider;

  @Field(() => String, { description: 'The vendor\'s name for people: "OpenAI", "Amazon Bedrock".' })
  displayName!: string;

  @Field(() => [AuthTypeInfoType], {
    description: 'What credentials of this model provider take; the default (used when auth is omitted) first.',
  })
  authTypes!: AuthTypeInfoType[];

  @Field(() => Boolean, { description: "Whether a provider (route) of this model provider may pass the caller's own OAuth token through." })
  oauthPassthrough!: boolean;

  @Field(() => String, {
    nullable: true,
    description:
      'The base URL a credential gets when it gives none and has no settings; null when baseUrl is required. Where a settings key builds it (Bedrock region, Vertex location, see settingsKeys), the setting replaces the fallback: https://bedrock-runtime.{region}.amazonaws.com, https://{location}-aiplatform.googleapis.com.',
  })
  defaultBaseUrl!: string | null;

  @Field(() => Boolean, { description: 'True when the model provider has no default base URL (AZURE_OPENAI, CUSTOM).' })
  baseUrlRequired!: boolean;

  @Field(() => [SettingsKeyInfoType], {
    description: 'Keys of settings the service reads; others are stored and passed to the gateway as given.',
  })
  settingsKeys!: SettingsKeyInfoType[];
}

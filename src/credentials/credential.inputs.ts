// GraphQL inputs for creating and updating credentials. CredentialAuthInput is a real @oneOf
// input: src/schema.ts marks the built type so graphql-js enforces exactly one member.
import { GraphQLJSONObject } from 'graphql-scalars';
import { Directive, Field, InputType, Int } from 'type-graphql';
import { ModelProviderEnum } from '../catalog/catalog.enums';
import type { ModelProvider } from '../catalog/model-provider-catalog';

@InputType({ description: 'An API key (API_KEY or BEDROCK_API_KEY). Write-only.' })
export class ApiKeyInput {
  @Field(() => String)
  apiKey!: string;
}

@InputType({ description: 'An IAM role the gateway assumes with an external id. Both are sealed.' })
export class AwsRoleInput {
  @Field(() => String, { description: 'arn:aws:iam::<12 digits>:role/<name>' })
  iamRoleArn!: string;

  @Field(() => String, {
    nullable: true,
    description:
      '2 to 1224 characters, as the role trust policy requires. Omitted: the vault generates one for the credential (see awsTrustInfo).',
  })
  externalId?: string | null;
}

@InputType({ description: 'Static AWS access keys. Write-only.' })
export class AwsKeysInput {
  @Field(() => String)
  accessKeyId!: string;

  @Field(() => String)
  secretAccessKey!: string;

  @Field(() => String, { nullable: true })
  sessionToken?: string | null;
}

@InputType({ description: "This service's own Application Default Credentials; stores no key material." })
export class GoogleAdcInput {
  @Field(() => String, { nullable: true })
  quotaProjectId?: string | null;
}

@InputType({ description: 'The fields of a Google service-account key file. Write-only.' })
export class GoogleServiceAccountInput {
  @Field(() => String)
  clientEmail!: string;

  @Field(() => String, { description: 'PEM, at most 16 KiB.' })
  privateKey!: string;

  @Field(() => String)
  privateKeyId!: string;

  @Field(() => String)
  projectId!: string;

  @Field(() => String, { nullable: true })
  clientId?: string | null;

  @Field(() => String, { nullable: true, description: 'Must equal the configured token URL when given.' })
  tokenUri?: string | null;
}

@InputType({ description: "Impersonate a service account from this service's own identity." })
export class GoogleImpersonationInput {
  @Field(() => String)
  targetPrincipal!: string;

  @Field(() => [String], { nullable: true })
  delegates?: string[] | null;

  @Field(() => [String], { nullable: true })
  scopes?: string[] | null;
}

@Directive('@oneOf')
@InputType({ description: 'Exactly one member; the member chosen is the auth type.' })
export class CredentialAuthInput {
  @Field(() => ApiKeyInput, { nullable: true })
  apiKey?: ApiKeyInput | null;

  @Field(() => AwsRoleInput, { nullable: true })
  awsRole?: AwsRoleInput | null;

  @Field(() => AwsKeysInput, { nullable: true })
  awsKeys?: AwsKeysInput | null;

  @Field(() => ApiKeyInput, { nullable: true })
  bedrockApiKey?: ApiKeyInput | null;

  @Field(() => GoogleAdcInput, { nullable: true })
  googleAdc?: GoogleAdcInput | null;

  @Field(() => GoogleServiceAccountInput, { nullable: true })
  googleServiceAccount?: GoogleServiceAccountInput | null;

  @Field(() => String, {
    nullable: true,
    description:
      'GOOGLE_SERVICE_ACCOUNT from the key file as Google issues it, pasted as one JSON string. Only the fields a service account needs are kept (sealed); the rest is dropped.',
  })
  googleServiceAccountKeyFile?: string | null;

  @Field(() => GoogleImpersonationInput, { nullable: true })
  googleImpersonation?: GoogleImpersonationInput | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Never accepted: Anthropic OAuth passthrough is configured on a provider. Present so the refusal can explain itself.',
  })
  oauthPassthrough?: boolean | null;
}

@InputType()
export class CreateCredentialInput {
  @Field(() => String, { description: '1 to 200 characters after trimming; unique in the organization.' })
  name!: string;

  @Field(() => ModelProviderEnum)
  modelProvider!: ModelProvider;

  @Field(() => CredentialAuthInput, { nullable: true, description: "Omitted: the provider's default auth type." })
  auth?: CredentialAuthInput | null;

  @Field(() => String, {
    nullable: true,
    description: 'Absolute https URL of a public host, where the gateway sends the credential; defaults per provider.',
  })
  baseUrl?: string | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Non-secret settings, at most 16 KiB.' })
  settings?: Record<string, unknown> | null;

  @Field(() => String, { nullable: true, description: 'Why: trimmed, at most 500 characters; shown as lastChangeNote.' })
  changeNote?: string | null;
}

@InputType({ description: 'Every field optional; a field given replaces the stored value; auth present = rotation.' })
export class UpdateCredentialInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => String, { nullable: true, description: "null resets to the provider's default." })
  baseUrl?: string | null;

  @Field(() => GraphQLJSONObject, { nullable: true })
  settings?: Record<string, unknown> | null;

  @Field(() => CredentialAuthInput, { nullable: true })
  auth?: CredentialAuthInput | null;

  @Field(() => Int, { nullable: true, description: 'Compare-and-set: CONFLICT when the stored secretVersion differs.' })
  expectedSecretVersion?: number | null;

  @Field(() => String, {
    nullable: true,
    description: 'Why: trimmed, at most 500 characters; shown as lastChangeNote. An update without it clears the previous note.',
  })
  changeNote?: string | null;
}

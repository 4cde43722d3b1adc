// GraphQL inputs for creating and updating a provider (route).
import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, InputType } from 'type-graphql';
import { ModelProviderEnum } from '../catalog/catalog.enums';
import type { ModelProvider } from '../catalog/model-provider-catalog';

@InputType({ description: 'Exactly one of credentialId or oauthPassthrough: true (ANTHROPIC only).' })
export class CreateProviderInput {
  @Field(() => String, { description: '1 to 200 characters after trimming; unique in the organization.' })
  name!: string;

  @Field(() => ModelProviderEnum)
  modelProvider!: ModelProvider;

  @Field(() => ID, {
    nullable: true,
    description:
      'A credential of your organization, of the same model provider (a CUSTOM credential may back any OpenAI-compatible provider).',
  })
  credentialId?: string | null;

  @Field(() => Boolean, { nullable: true, description: "ANTHROPIC only: pass the caller's OAuth token through instead of a credential." })
  oauthPassthrough?: boolean | null;

  @Field(() => GraphQLJSONObject, { nullable: true })
  settings?: Record<string, unknown> | null;
}

@InputType({
  description:
    'Every field optional; a field given replaces the stored value. credentialId repoints the provider to that credential; oauthPassthrough: true turns it into OAuth passthrough (ANTHROPIC only). Not both.',
})
export class UpdateProviderInput {
  @Field(() => String, { nullable: true, description: '1 to 200 characters after trimming; unique in the organization.' })
  name?: string | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Replaces the stored settings.' })
  settings?: Record<string, unknown> | null;

  @Field(() => ID, {
    nullable: true,
    description:
      'A credential of your organization, of the same model provider (a CUSTOM credential may back any OpenAI-compatible provider). The runtime route uses it from the next resolve on.',
  })
  credentialId?: string | null;

  @Field(() => Boolean, { nullable: true, description: "ANTHROPIC only: pass the caller's OAuth token through instead of a credential." })
  oauthPassthrough?: boolean | null;
}

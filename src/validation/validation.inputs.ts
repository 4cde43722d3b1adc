// @oneOf inputs for the validation mutations: inline auth (validated, never stored) or a stored
// credential of the caller's organization.
import { Directive, Field, ID, InputType } from 'type-graphql';
import { AwsRoleInput, GoogleAdcInput, GoogleImpersonationInput, GoogleServiceAccountInput } from '../credentials/credential.inputs';

@Directive('@oneOf')
@InputType({ description: 'Exactly one: an inline role (never stored) or a stored AWS_ROLE credential.' })
export class AwsRoleValidationInput {
  @Field(() => AwsRoleInput, { nullable: true })
  role?: AwsRoleInput | null;

  @Field(() => ID, { nullable: true })
  credentialId?: string | null;
}

@Directive('@oneOf')
@InputType({ description: 'Exactly one: inline Google auth (never stored) or a stored VERTEX credential.' })
export class GoogleVertexValidationInput {
  @Field(() => GoogleAdcInput, { nullable: true })
  googleAdc?: GoogleAdcInput | null;

  @Field(() => GoogleServiceAccountInput, { nullable: true })
  googleServiceAccount?: GoogleServiceAccountInput | null;

  @Field(() => String, {
    nullable: true,
    description: 'A service-account key file as Google issues it, as one JSON string (never stored).',
  })
  googleServiceAccountKeyFile?: string | null;

  @Field(() => GoogleImpersonationInput, { nullable: true })
  googleImpersonation?: GoogleImpersonationInput | null;

  @Field(() => ID, { nullable: true })
  credentialId?: string | null;
}

// Thin GraphQL resolvers for the validation mutations (admin only).
import { Arg, Ctx, Mutation, registerEnumType, Resolver } from 'type-graphql';
import { VERTEX_LOCATION } from '../catalog/model-provider-catalog';
import type { Context } from '../context';
import { AwsRoleValidationInput, GoogleVertexValidationInput } from './validation.inputs';
import type { ValidationResult } from './validation-result';
import { ValidationResultType } from './validation.type';
import { DEFAULT_VERTEX_MODEL, type VertexApiFamily } from './google-vertex-validator';

const VERTEX_API_FAMILIES = { VERTEX_GEMINI: 'vertex_gemini', ANTHROPIC_MESSAGES: 'anthropic_messages' } as const satisfies Record<
  string,
  VertexApiFamily
>;
const VertexApiFamilyEnum = { VERTEX_GEMINI: 'VERTEX_GEMINI', ANTHROPIC_MESSAGES: 'ANTHROPIC_MESSAGES' } as const;
registerEnumType(VertexApiFamilyEnum, {
  name: 'VertexApiFamily',
  description: 'Which Vertex API a validation calls, as the gateway will.',
});

@Resolver()
export class ValidationResolver {
  @Mutation(() => ValidationResultType, {
    description:
      "STS AssumeRole with the role ARN and external id from this service's own AWS identity, plus a probe without the external id.",
  })
  async validateAwsRole(
    @Arg('input', () => AwsRoleValidationInput) input: AwsRoleValidationInput,
    @Arg('region', () => String, { nullable: true }) region: string | null,
    @Ctx() ctx: Context,
  ): Promise<ValidationResult> {
    return ctx.services.validation.validateAwsRole(await ctx.principal(), input, region);
  }

  @Mutation(() => ValidationResultType, {
    description: `Gets an access token the way the gateway would, then calls Vertex countTokens (default model ${DEFAULT_VERTEX_MODEL}).`,
  })
  async validateGoogleVertex(
    @Arg('input', () => GoogleVertexValidationInput) input: GoogleVertexValidationInput,
    @Arg('projectId', () => String, {
      nullable: true,
      description: "Left out: a stored credential's settings.project_id, else a service account's own project.",
    })
    projectId: string | null,
    @Arg('location', () => String, { nullable: true, defaultValue: VERTEX_LOCATION.fallback }) location: string,
    @Arg('model', () => String, { nullable: true }) model: string | null,
    @Arg('modelApiFamily', () => VertexApiFamilyEnum, {
      nullable: true,
      description: 'VERTEX_GEMINI (default) or ANTHROPIC_MESSAGES (Claude on Vertex).',
    })
    modelApiFamily: keyof typeof VertexApiFamilyEnum | null,
    @Ctx() ctx: Context,
  ): Promise<ValidationResult> {
    const apiFamily = modelApiFamily === null ? null : VERTEX_API_FAMILIES[modelApiFamily];
    return ctx.services.validation.validateGoogleVertex(await ctx.principal(), input, { projectId, location, model, apiFamily });
  }
}

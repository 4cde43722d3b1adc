// The REST door's request and response shapes, as the contract names them (snake_case). One
// source for two jobs: the router validates request bodies with these schemas, and
// /openapi.json is generated from the same definitions, so a change to a field changes both.
// Shapes only: what a value means (an ARN, a key, a URL) is checked by the services.
import { z } from 'zod';
import { MODEL_PROVIDERS, modelProviderEntry } from '../catalog/model-provider-catalog';
import { REST_AUTH_TYPE_NAMES, REST_AUTH_TYPES } from './rest-auth-types';

/** Every schema the OpenAPI document names, by its component name. */
export const restComponents = z.registry<{ id: string; description?: string }>();

const dateTime = () => z.string().meta({ format: 'date-time' });
const settings = z.record(z.string(), z.unknown());

export const ModelProviderSlugSchema = z
  .enum(MODEL_PROVIDERS.map((modelProvider) => modelProviderEntry(modelProvider).slug) as [string, ...string[]])
  .register(restComponents, { id: 'ModelProviderSlug', description: 'A model vendor, by its lower-case slug.' });

export const AuthTypeNameSchema = z.enum(REST_AUTH_TYPE_NAMES).register(restComponents, {
  id: 'AuthTypeName',
  description: `How the gateway authenticates; ${REST_AUTH_TYPES.join(', ')} and their aliases.`,
});

export const ConnectionSchema = z
  .strictObject({
    id: z.uuid(),
    org_id: z.uuid(),
    name: z.string(),
    model_provider: z.string(),
    auth_type: z.enum(REST_AUTH_TYPES),
    base_url: z.string(),
    settings,
    stores_key_material: z.boolean(),
    key_last4: z.string().nullable(),
    secret_path: z.string().meta({ description: 'An opaque, stable reference to the sealed secret; never key material.' }),
    secret_version: z.int(),
    secret_rotated_at: dateTime(),
    created_at: dateTime(),
    updated_at: dateTime(),
    created_by_user_id: z.string(),
    last_modified_at: dateTime(),
    last_modified_by_user_id: z.string(),
    last_change_note: z.string().nullable(),
    last_used_at: dateTime().nullable().meta({ description: 'The latest resolve by the gateway (to the minute); null until then.' }),
  })
  .register(restComponents, { id: 'Connection', description: 'An upstream credential. Its secret is write-only: no field returns it.' });

/**
 * The secret fields of a non-key auth type. Which keys each auth type takes is checked when the
 * body is mapped (a Google key file may carry fields of its own), so any object passes here.
 */
const credentials = z.record(z.string(), z.unknown()).meta({
  description:
    'aws_role: iam_role_arn, external_id (generated when absent). aws_keys: access_key_id, secret_access_key, session_token. ' +
    'google_service_account: the key file as Google issues it. google_impersonation: target_service_account, delegates. Write-only.',
});

export const CreateConnectionSchema = z
  .strictObject({
    name: z.string(),
    model_provider: ModelProviderSlugSchema,
    base_url: z.string().optional(),
    auth_type: AuthTypeNameSchema.optional(),
    api_key: z.string().optional().meta({ description: 'For key-based auth types. Write-only.' }),
    credentials: credentials.optional(),
    settings: settings.optional(),
    change_note: z.string().optional(),
  })
  .register(restComponents, { id: 'CreateConnection' });

export const UpdateConnectionSchema = z
  .strictObject({
    name: z.string().optional(),
    base_url: z.string().nullable().optional().meta({ description: "null resets to the model provider's default." }),
    auth_type: AuthTypeNameSchema.optional(),
    api_key: z.string().optional().meta({ description: 'Sending it rotates the secret. Write-only.' }),
    credentials: credentials.optional().meta({ description: 'Sending it rotates the secret. Write-only.' }),
    settings: settings.optional().meta({ description: 'Merged over the stored settings.' }),
    change_note: z.string().optional().meta({ description: 'Omitting it clears the previous note.' }),
  })
  .register(restComponents, { id: 'UpdateConnection', description: 'Every field optional: an omitted field keeps its value.' });

export const DeletedSchema = z.strictObject({ deleted: z.literal(true) }).register(restComponents, { id: 'Deleted' });

export const AwsRoleValidateSchema = z
  .strictObject({
    region: z.string().optional(),
    iam_role_arn: z.string().optional(),
    external_id: z.string().optional(),
    connection_id: z.string().optional(),
  })
  .register(restComponents, {
    id: 'AwsRoleValidate',
    description: '{region, iam_role_arn, external_id} (all required), or {connection_id, region?} for a stored aws_role connection.',
  });

export const GoogleVertexValidateSchema = z
  .strictObject({
    // Left out: a stored connection's settings.project_id, else a service account's own project.
    project_id: z.string().optional(),
    location: z.string(),
    auth_type: AuthTypeNameSchema.optional(),
    credentials: credentials.optional(),
    target_service_account: z.string().optional(),
    delegates: z.array(z.string()).optional(),
    quota_project_id: z.string().optional(),
    model: z.string().optional(),
    model_api_family: z.enum(['vertex_gemini', 'anthropic_messages']).optional(),
    connection_id: z.string().optional(),
  })
  .register(restComponents, {
    id: 'GoogleVertexValidate',
    description:
      'Inline Google auth (auth_type, default google_adc) or a stored connection (connection_id). project_id may be left out ' +
      'for a service account (its own project) or a connection whose settings name one (project_id).',
  });

export const ValidationResultSchema = z
  .strictObject({
    ok: z.boolean(),
    message: z.string().nullable(),
    checks: z.array(z.strictObject({ name: z.string(), ok: z.boolean(), message: z.string().nullable() })),
  })
  .register(restComponents, { id: 'ValidationResult', description: 'A check that fails is data (ok: false), not an error.' });

export const AwsRoleConfigSchema = z
  .strictObject({ configured: z.boolean(), principal_arn: z.string().nullable() })
  .register(restComponents, { id: 'AwsRoleConfig' });

export const AwsTrustInfoSchema = z
  .strictObject({
    external_id: z.string().nullable().meta({ description: 'Generated by the vault; null when the admin supplied their own.' }),
    principal_arn: z.string().nullable(),
  })
  .register(restComponents, { id: 'AwsTrustInfo' });

export const ProviderSchema = z
  .strictObject({
    id: z.uuid(),
    org_id: z.uuid(),
    name: z.string(),
    model_provider: z.string(),
    connection_id: z.uuid().nullable(),
    auth_type: z.enum([...REST_AUTH_TYPES, 'oauth_passthrough']),
    settings,
    created_at: dateTime(),
    created_by_user_id: z.string(),
    updated_at: dateTime(),
    last_modified_by_user_id: z.string(),
  })
  .register(restComponents, { id: 'Provider', description: 'A route of the gateway, backed by a connection or by OAuth passthrough.' });

export const CreateProviderSchema = z
  .strictObject({
    name: z.string(),
    model_provider: ModelProviderSlugSchema,
    connection_id: z.string().optional(),
    auth_type: z.literal('oauth_passthrough').optional(),
    settings: settings.optional(),
  })
  .register(restComponents, {
    id: 'CreateProvider',
    description: 'Exactly one of connection_id or auth_type: "oauth_passthrough" (anthropic only).',
  });

export const UpdateProviderSchema = z
  .strictObject({
    name: z.string().optional(),
    connection_id: z.string().nullable().optional().meta({
      description: 'Repoints the provider to this connection (of the same model provider); the gateway uses it from its next resolve.',
    }),
    auth_type: z
      .literal('oauth_passthrough')
      .optional()
      .meta({ description: 'Turns the provider into OAuth passthrough (anthropic only).' }),
    settings: settings.optional().meta({ description: 'Merged over the stored settings.' }),
  })
  .register(restComponents, {
    id: 'UpdateProvider',
    description: 'Every field optional: an omitted field keeps its value. Not both connection_id and auth_type "oauth_passthrough".',
  });

export const AuditEventSchema = z
  .strictObject({
    id: z.uuid(),
    at: dateTime(),
    action: z.string(),
    actor: z.string(),
    target_type: z.string().nullable(),
    target_id: z.string().nullable(),
    changed_fields: z.array(z.string()),
    secret_version: z.number().int().nullable(),
    change_note: z.string().nullable(),
    request_id: z.string().nullable(),
  })
  .register(restComponents, {
    id: 'AuditEvent',
    description: 'One recorded change, validation run, re-wrap or minute of runtime resolves.',
  });

export const AuditEventPageSchema = z
  .strictObject({
    events: z.array(AuditEventSchema),
    next_cursor: z.string().nullable().meta({ description: 'Pass as ?after= for the next (older) page; null on the last.' }),
    total_count: z.number().int(),
  })
  .register(restComponents, { id: 'AuditEventPage', description: "The organization's audit events, newest first." });

export const RestErrorSchema = z
  .strictObject({
    error: z.strictObject({
      message: z.string(),
      type: z.string(),
      param: z.string().nullable(),
      code: z.string(),
    }),
  })
  .register(restComponents, { id: 'Error', description: 'Every error, in the OpenAI-style envelope.' });

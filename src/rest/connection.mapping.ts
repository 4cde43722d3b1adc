// Connections (REST) ⇄ credentials (the service): snake_case fields, lower-case slugs and auth
// type names, `api_key` or a `credentials` object per auth type. Mapping only: every check of
// what a value means stays in the credential service.
import { z } from 'zod';
import {
  acceptsAuthType,
  type AuthType,
  defaultAuthType,
  type ModelProvider,
  modelProviderFromSlug,
  slugOf,
} from '../catalog/model-provider-catalog';
import type { Credential } from '../credentials/credential.model';
import type { AuthRequest } from '../credentials/credential-auth';
import type { CreateCredentialRequest, UpdateCredentialRequest } from '../credentials/credential.service';
import { authTypeOfName, nameOfAuthType } from './rest-auth-types';
import { RestRequestError } from './rest-error';
import { parseBody } from './rest-validation';
import type { ConnectionSchema, CreateConnectionSchema, UpdateConnectionSchema } from './rest.schemas';

export type ConnectionJson = z.infer<typeof ConnectionSchema>;

export function connectionOf(credential: Credential): ConnectionJson {
  return {
    id: credential.id,
    org_id: credential.organizationId,
    name: credential.name,
    model_provider: slugOf(credential.modelProvider),
    auth_type: restAuthTypeOf(credential.authType),
    base_url: credential.baseUrl,
    settings: settingsOf(credential),
    stores_key_material: credential.storesKeyMaterial,
    key_last4: credential.keyLast4,
    secret_path: `credentials/${credential.id}`,
    secret_version: credential.secretVersion,
    secret_rotated_at: credential.secretRotatedAt.toISOString(),
    created_at: credential.createdAt.toISOString(),
    updated_at: credential.updatedAt.toISOString(),
    created_by_user_id: credential.createdBy,
    last_modified_at: credential.updatedAt.toISOString(),
    last_modified_by_user_id: credential.updatedBy,
    last_change_note: credential.lastChangeNote,
    last_used_at: credential.lastUsedAt?.toISOString() ?? null,
  };
}

/** The stored settings, plus a google_adc connection's quota project where REST clients put it. */
function settingsOf(credential: Credential): Record<string, unknown> {
  const quotaProjectId = credential.authParameters.quotaProjectId;
  return quotaProjectId === undefined ? credential.settings : { ...credential.settings, quota_project_id: quotaProjectId };
}

function restAuthTypeOf(authType: AuthType): ConnectionJson['auth_type'] {
  const name = nameOfAuthType(authType);
  // Credentials never hold OAUTH_PASSTHROUGH (the service refuses it); a row that did is a fault.
  if (name === 'oauth_passthrough') throw new Error('a credential cannot be OAUTH_PASSTHROUGH');
  return name;
}

/** The ETag of a connection (or a provider): its revision, which moves on every write of the row. */
export function etagOf(row: { revision: number }): string {
  return `"${row.revision}"`;
}

/**
 * The revision an `If-Match` header allows, given the row as it is now: undefined when there is
 * no header or it is `*`; a 412 when none of its tags is the current one.
 */
export function revisionAllowedBy(
  ifMatch: string | undefined,
  current: { revision: number },
  what: 'connection' | 'provider' = 'connection',
): number | undefined {
  if (ifMatch === undefined || ifMatch.trim() === '*') return undefined;
  // If-Match compares strongly: weak tags (W/"...") never match.
  const tags = ifMatch.split(',').map((tag) => tag.trim());
  if (tags.includes(etagOf(current))) return current.revision;
  throw new RestRequestError(412, `The ${what} was changed since that ETag; read it again and retry.`, 'If-Match');
}

export function createRequestOf(body: z.infer<typeof CreateConnectionSchema>): CreateCredentialRequest {
  const modelProvider = modelProviderFromSlug(body.model_provider);
  const authType = body.auth_type ? authTypeOfName(body.auth_type) : impliedAuthType(modelProvider, body.api_key !== undefined);
  const { auth, settings } = authOf(authType, body, body.settings);
  return {
    name: body.name,
    modelProvider,
    auth,
    baseUrl: body.base_url,
    settings,
    changeNote: body.change_note,
  };
}

export function updateRequestOf(body: z.infer<typeof UpdateConnectionSchema>, current: Credential): UpdateCredentialRequest {
  if ((body as Record<string, unknown>).settings === null) {
    throw new RestRequestError(400, 'settings cannot be null; omit it to keep the stored settings.', 'settings');
  }
  if ((body as Record<string, unknown>).credentials === null) {
    throw new RestRequestError(400, 'credentials cannot be null; omit it to keep the stored secret.', 'credentials');
  }
  const request: UpdateCredentialRequest = {
    name: body.name,
    baseUrl: body.base_url,
    changeNote: body.change_note ?? null,
    mergeSettings: true,
  };
  const rotates = body.api_key !== undefined || body.credentials !== undefined;
  const named = body.auth_type ? authTypeOfName(body.auth_type) : undefined;
  if (!rotates && named !== undefined && named !== current.authType && named !== 'GOOGLE_ADC') {
    throw new RestRequestError(400, 'Changing auth_type requires the new secret: send api_key or credentials with it.', 'auth_type');
  }
  // A google_adc connection's quota project lives in its auth: changing it is an auth change.
  const quotaChange = current.authType === 'GOOGLE_ADC' && body.settings !== undefined && 'quota_project_id' in body.settings;
  if (rotates || quotaChange || (named !== undefined && named !== current.authType)) {
    const authType = named ?? (body.api_key !== undefined ? keyAuthTypeFor(current) : current.authType);
    const { auth, settings } = authOf(authType, body, body.settings);
    request.auth = auth;
    request.settings = settings;
  } else {
    request.settings = body.settings;
  }
  return request;
}

/** Without auth_type: a key-based type when an api_key is sent, else the model provider's default. */
function impliedAuthType(modelProvider: ModelProvider, hasApiKey: boolean): AuthType {
  if (!hasApiKey) return defaultAuthType(modelProvider);
  return acceptsAuthType(modelProvider, 'API_KEY') || !acceptsAuthType(modelProvider, 'BEDROCK_API_KEY') ? 'API_KEY' : 'BEDROCK_API_KEY';
}

function keyAuthTypeFor(current: Credential): AuthType {
  if (current.authType === 'API_KEY' || current.authType === 'BEDROCK_API_KEY') return current.authType;
  return impliedAuthType(current.modelProvider, true);
}

interface AuthFields {
  api_key?: string;
  credentials?: Record<string, unknown>;
}

/** Which keys a `credentials` object takes, per auth type; a Google key file is taken whole. */
const AwsRoleCredentials = z.strictObject({ iam_role_arn: z.string().optional(), external_id: z.string().optional() });
const AwsKeysCredentials = z.strictObject({
  access_key_id: z.string().optional(),
  secret_access_key: z.string().optional(),
  session_token: z.string().optional(),
});
const ImpersonationCredentials = z.strictObject({
  target_service_account: z.string().optional(),
  delegates: z.array(z.string()).optional(),
  scopes: z.array(z.string()).optional(),
});

/**
 * The auth member for an auth type from `api_key` / `credentials`, and the settings to store
 * (an AWS role's ARN and external id may come in settings; they move into the sealed secret).
 */
function authOf(
  authType: AuthType,
  fields: AuthFields,
  givenSettings: Record<string, unknown> | undefined,
): { auth: AuthRequest; settings: Record<string, unknown> | undefined } {
  const keyBased = authType === 'API_KEY' || authType === 'BEDROCK_API_KEY';
  if (keyBased && fields.credentials !== undefined) {
    throw new RestRequestError(400, `auth_type ${nameOfAuthType(authType)} takes api_key, not credentials.`, 'credentials');
  }
  if (!keyBased && fields.api_key !== undefined) {
    throw new RestRequestError(400, `auth_type ${nameOfAuthType(authType)} takes credentials, not api_key.`, 'api_key');
  }
  const credentials = fields.credentials;
  switch (authType) {
    case 'API_KEY':
      return { auth: { apiKey: { apiKey: requireApiKey(fields) } }, settings: givenSettings };
    case 'BEDROCK_API_KEY':
      return { auth: { bedrockApiKey: { apiKey: requireApiKey(fields) } }, settings: givenSettings };
    case 'AWS_ROLE': {
      const { iam_role_arn: arnSetting, external_id: externalIdSetting, ...settings } = givenSettings ?? {};
      const role = parseBody(AwsRoleCredentials, credentials ?? {}, 'credentials');
      return {
        auth: {
          awsRole: {
            iamRoleArn: role.iam_role_arn ?? (typeof arnSetting === 'string' ? arnSetting : ''),
            externalId: role.external_id ?? (typeof externalIdSetting === 'string' ? externalIdSetting : null),
          },
        },
        settings: givenSettings === undefined ? undefined : settings,
      };
    }
    case 'AWS_KEYS': {
      const keys = parseBody(AwsKeysCredentials, credentials ?? {}, 'credentials');
      return {
        auth: {
          awsKeys: {
            accessKeyId: keys.access_key_id ?? '',
            secretAccessKey: keys.secret_access_key ?? '',
            sessionToken: keys.session_token ?? null,
          },
        },
        settings: givenSettings,
      };
    }
    case 'GOOGLE_SERVICE_ACCOUNT':
      return { auth: { googleServiceAccountKeyFile: credentials ?? {} }, settings: givenSettings };
    case 'GOOGLE_IMPERSONATION': {
      const impersonation = parseBody(ImpersonationCredentials, credentials ?? {}, 'credentials');
      return {
        auth: {
          googleImpersonation: {
            targetPrincipal: impersonation.target_service_account ?? '',
            delegates: impersonation.delegates ?? null,
            scopes: impersonation.scopes ?? null,
          },
        },
        settings: givenSettings,
      };
    }
    case 'GOOGLE_ADC': {
      if (credentials !== undefined) throw new RestRequestError(400, 'auth_type google_adc stores no credentials.', 'credentials');
      // The quota project is an auth parameter (as GraphQL's googleAdc.quotaProjectId), not a setting.
      const { quota_project_id: quotaProjectId, ...settings } = givenSettings ?? {};
      return {
        auth: { googleAdc: { quotaProjectId: typeof quotaProjectId === 'string' ? quotaProjectId : null } },
        settings: givenSettings === undefined ? undefined : settings,
      };
    }
    case 'OAUTH_PASSTHROUGH':
      return { auth: { oauthPassthrough: true }, settings: givenSettings };
  }
}

function requireApiKey(fields: AuthFields): string {
  if (fields.api_key === undefined) throw new RestRequestError(400, 'api_key is required for this auth_type.', 'api_key');
  return fields.api_key;
}

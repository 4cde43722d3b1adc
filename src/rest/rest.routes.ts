// Every REST route, once: method, path, the schemas of its body and answer, and the handler
// that maps it onto the same services the GraphQL resolvers call. The router registers this
// table and /openapi.json is generated from it, so the two cannot disagree.
import type { z } from 'zod';
import type { Principal } from '../auth/principal';
import { modelProviderFromSlug, slugOf } from '../catalog/model-provider-catalog';
import type { Services } from '../context';
import type { Credential } from '../credentials/credential.model';
import { IDEMPOTENCY_KEY_HEADER } from '../idempotency/idempotency-key';
import type { Connection as ServiceConnection } from '../pagination/connection';
import type { Provider } from '../providers/provider.model';
import type { GoogleVertexValidationRequest } from '../validation/validation.service';
import type { ValidationResult as ServiceValidationResult } from '../validation/validation-result';
import { connectionOf, createRequestOf, etagOf, revisionAllowedBy, updateRequestOf } from './connection.mapping';
import { authTypeOfName, nameOfAuthType } from './rest-auth-types';
import { RestRequestError } from './rest-error';
import { parseBody } from './rest-validation';
import {
  AuditEventPageSchema,
  AwsRoleConfigSchema,
  AwsRoleValidateSchema,
  AwsTrustInfoSchema,
  ConnectionSchema,
  CreateConnectionSchema,
  CreateProviderSchema,
  DeletedSchema,
  GoogleVertexValidateSchema,
  ProviderSchema,
  UpdateConnectionSchema,
  UpdateProviderSchema,
  ValidationResultSchema,
} from './rest.schemas';

export interface RestCall {
  principal: Principal;
  services: Services;
  /** The `{id}` path parameter, already checked to be a UUID. */
  id: string;
  body: unknown;
  header(name: string): string | undefined;
  /** A query parameter given once; undefined when absent (given twice is a 400 before the handler runs). */
  query(name: string): string | undefined;
}

export interface RestAnswer {
  body: unknown;
  etag?: string;
}

export interface RestRoute {
  method: 'get' | 'post' | 'put' | 'delete';
  /** Relative to the mount point (`/admin`); `{id}` is a UUID. */
  path: string;
  operationId: string;
  summary: string;
  tag: 'connections' | 'providers' | 'audit';
  /** Query parameters the route reads, with their descriptions (for the OpenAPI document). */
  query?: Record<string, string>;
  /** The body's schema; routes without one take no body. */
  body?: z.ZodType;
  /** The answer's schema; `list` when the answer is an array of it. */
  answer: z.ZodType;
  list?: boolean;
  /** Whether the answer carries an ETag. */
  etag?: boolean;
  /** Whether the route takes an Idempotency-Key header (src/idempotency/idempotency-keys.ts). */
  idempotent?: boolean;
  handle(call: RestCall): Promise<RestAnswer>;
}

/** Every page of a Relay-paged list, for the REST lists that answer with one array. */
async function allPages<Node>(load: (after: string | null) => Promise<ServiceConnection<Node>>): Promise<Node[]> {
  const nodes: Node[] = [];
  for (let after: string | null = null; ;) {
    const page: ServiceConnection<Node> = await load(after);
    nodes.push(...page.edges.map((edge) => edge.node));
    if (!page.pageInfo.hasNextPage) return nodes;
    after = page.pageInfo.endCursor;
  }
}

function connectionAnswer(credential: Credential): RestAnswer {
  return { body: connectionOf(credential), etag: etagOf(credential) };
}

function validationAnswer(result: ServiceValidationResult): RestAnswer {
  return {
    body: {
      ok: result.ok,
      message: result.message,
      checks: result.checks.map((check) => ({ name: check.name, ok: check.ok, message: check.detail })),
    },
  };
}

async function providersAnswer(call: RestCall, providers: Provider[]): Promise<unknown[]> {
  const ids = [...new Set(providers.flatMap((provider) => (provider.credentialId ? [provider.credentialId] : [])))];
  const credentials = await call.services.credentials.getMany(call.principal, ids);
  const authTypes = new Map(credentials.flatMap((credential) => (credential ? [[credential.id, credential.authType] as const] : [])));
  return providers.map((provider) => ({
    id: provider.id,
    org_id: provider.organizationId,
    name: provider.name,
    model_provider: slugOf(provider.modelProvider),
    connection_id: provider.credentialId,
    auth_type: nameOfAuthType(provider.credentialId ? (authTypes.get(provider.credentialId) ?? 'API_KEY') : 'OAUTH_PASSTHROUGH'),
    settings: provider.settings,
    created_at: provider.createdAt.toISOString(),
    created_by_user_id: provider.createdBy,
    updated_at: provider.updatedAt.toISOString(),
    last_modified_by_user_id: provider.updatedBy,
  }));
}

async function providerAnswer(call: RestCall, provider: Provider): Promise<RestAnswer> {
  return { body: (await providersAnswer(call, [provider]))[0], etag: etagOf(provider) };
}

export const REST_ROUTES: readonly RestRoute[] = [
  {
    method: 'get',
    path: '/connections',
    operationId: 'listConnections',
    summary: "All of the organization's connections, oldest first.",
    tag: 'connections',
    answer: ConnectionSchema,
    list: true,
    async handle(call) {
      const credentials = await allPages((after) => call.services.credentials.list(call.principal, { first: 100, after }));
      return { body: credentials.map(connectionOf) };
    },
  },
  {
    method: 'post',
    path: '/connections',
    operationId: 'createConnection',
    summary: 'Create a connection; its secret is sealed and never returned.',
    tag: 'connections',
    body: CreateConnectionSchema,
    answer: ConnectionSchema,
    etag: true,
    idempotent: true,
    async handle(call) {
      const body = parseBody(CreateConnectionSchema, call.body);
      const request = createRequestOf(body);
      return connectionAnswer(await call.services.idempotentCreates.createCredential(call.principal, request, idempotencyKeyOf(call)));
    },
  },
  {
    method: 'get',
    path: '/connections/aws-role-config',
    operationId: 'getAwsRoleConfig',
    summary: "Whether this vault has an AWS identity for customers' role trust policies.",
    tag: 'connections',
    answer: AwsRoleConfigSchema,
    async handle(call) {
      const config = call.services.credentials.awsRoleConfig(call.principal);
      return Promise.resolve({ body: { configured: config.configured, principal_arn: config.principalArn } });
    },
  },
  {
    method: 'post',
    path: '/connections/aws-role-validate',
    operationId: 'validateAwsRole',
    summary: "STS AssumeRole with the role and external id, from this service's own AWS identity.",
    tag: 'connections',
    body: AwsRoleValidateSchema,
    answer: ValidationResultSchema,
    async handle(call) {
      const body = parseBody(AwsRoleValidateSchema, call.body);
      if (body.connection_id !== undefined) {
        refuseBesideConnectionId(body, ['iam_role_arn', 'external_id']);
        return validationAnswer(
          await call.services.validation.validateAwsRole(call.principal, { credentialId: body.connection_id }, body.region),
        );
      }
      for (const field of ['region', 'iam_role_arn', 'external_id'] as const) {
        if (body[field] === undefined) throw new RestRequestError(400, `${field} is required (or give connection_id).`, field);
      }
      const role = { iamRoleArn: body.iam_role_arn ?? '', externalId: body.external_id ?? '' };
      return validationAnswer(await call.services.validation.validateAwsRole(call.principal, { role }, body.region));
    },
  },
  {
    method: 'post',
    path: '/connections/google-vertex-validate',
    operationId: 'validateGoogleVertex',
    summary: 'Get an access token the way the gateway would, then call Vertex AI countTokens with it.',
    tag: 'connections',
    body: GoogleVertexValidateSchema,
    answer: ValidationResultSchema,
    async handle(call) {
      const body = parseBody(GoogleVertexValidateSchema, call.body);
      const target = { projectId: body.project_id, location: body.location, model: body.model, apiFamily: body.model_api_family };
      return validationAnswer(await call.services.validation.validateGoogleVertex(call.principal, googleIdentityOf(body), target));
    },
  },
  {
    method: 'get',
    path: '/connections/{id}',
    operationId: 'getConnection',
    summary: 'One connection of your organization.',
    tag: 'connections',
    answer: ConnectionSchema,
    etag: true,
    async handle(call) {
      return connectionAnswer(await call.services.credentials.get(call.principal, call.id));
    },
  },
  {
    method: 'put',
    path: '/connections/{id}',
    operationId: 'updateConnection',
    summary: 'Change a connection: omitted fields keep their value, api_key or credentials rotate the secret, settings are merged.',
    tag: 'connections',
    body: UpdateConnectionSchema,
    answer: ConnectionSchema,
    etag: true,
    async handle(call) {
      const body = parseBody(UpdateConnectionSchema, call.body);
      const current = await call.services.credentials.get(call.principal, call.id);
      const request = { ...updateRequestOf(body, current), expectedRevision: revisionAllowedBy(call.header('if-match'), current) };
      return connectionAnswer(await call.services.credentials.update(call.principal, call.id, request));
    },
  },
  {
    method: 'delete',
    path: '/connections/{id}',
    operationId: 'deleteConnection',
    summary: 'Delete a connection no provider uses (409 naming the providers otherwise).',
    tag: 'connections',
    answer: DeletedSchema,
    async handle(call) {
      await call.services.credentials.delete(call.principal, call.id);
      return { body: { deleted: true } };
    },
  },
  {
    method: 'get',
    path: '/connections/{id}/aws-trust-info',
    operationId: 'getAwsTrustInfo',
    summary: "What an aws_role connection's trust policy must allow: the external id and the principal.",
    tag: 'connections',
    answer: AwsTrustInfoSchema,
    async handle(call) {
      const info = await call.services.credentials.awsTrustInfo(call.principal, call.id);
      return { body: { external_id: info.externalId, principal_arn: info.principalArn } };
    },
  },
  {
    method: 'get',
    path: '/providers',
    operationId: 'listProviders',
    summary: "All of the organization's providers (routes), oldest first.",
    tag: 'providers',
    answer: ProviderSchema,
    list: true,
    async handle(call) {
      const providers = await allPages((after) => call.services.providers.list(call.principal, { first: 100, after }));
      return { body: await providersAnswer(call, providers) };
    },
  },
  {
    method: 'post',
    path: '/providers',
    operationId: 'createProvider',
    summary: 'Create a provider backed by a connection, or by OAuth passthrough (anthropic).',
    tag: 'providers',
    body: CreateProviderSchema,
    answer: ProviderSchema,
    etag: true,
    idempotent: true,
    async handle(call) {
      const body = parseBody(CreateProviderSchema, call.body);
      const request = {
        name: body.name,
        modelProvider: modelProviderFromSlug(body.model_provider),
        credentialId: body.connection_id,
        oauthPassthrough: body.auth_type === 'oauth_passthrough',
        settings: body.settings,
      };
      const provider = await call.services.idempotentCreates.createProvider(call.principal, request, idempotencyKeyOf(call));
      return providerAnswer(call, provider);
    },
  },
  {
    method: 'get',
    path: '/providers/{id}',
    operationId: 'getProvider',
    summary: 'One provider of your organization.',
    tag: 'providers',
    answer: ProviderSchema,
    etag: true,
    async handle(call) {
      return providerAnswer(call, await call.services.providers.get(call.principal, call.id));
    },
  },
  {
    method: 'put',
    path: '/providers/{id}',
    operationId: 'updateProvider',
    summary:
      'Change a provider: omitted fields keep their value, connection_id or auth_type "oauth_passthrough" repoint it, settings are merged.',
    tag: 'providers',
    body: UpdateProviderSchema,
    answer: ProviderSchema,
    etag: true,
    async handle(call) {
      const body = parseBody(UpdateProviderSchema, call.body);
      const ifMatch = call.header('if-match');
      const expectedRevision =
        ifMatch === undefined
          ? undefined
          : revisionAllowedBy(ifMatch, await call.services.providers.get(call.principal, call.id), 'provider');
      const provider = await call.services.providers.update(call.principal, call.id, {
        name: body.name,
        settings: body.settings,
        credentialId: body.connection_id,
        oauthPassthrough: body.auth_type === 'oauth_passthrough' ? true : undefined,
        mergeSettings: true,
        expectedRevision,
      });
      return providerAnswer(call, provider);
    },
  },
  {
    method: 'delete',
    path: '/providers/{id}',
    operationId: 'deleteProvider',
    summary: 'Delete a provider.',
    tag: 'providers',
    answer: DeletedSchema,
    async handle(call) {
      await call.services.providers.delete(call.principal, call.id);
      return { body: { deleted: true } };
    },
  },
  {
    method: 'get',
    path: '/audit-events',
    operationId: 'listAuditEvents',
    summary: "The organization's audit trail, newest first (admin and viewer)",
    tag: 'audit',
    query: {
      first: 'Page size, at most 100 (default 50).',
      after: 'The next_cursor of the previous page.',
      target_id: 'Only events about this credential or provider.',
      action: 'Only events of this action, e.g. credential.rotated.',
    },
    answer: AuditEventPageSchema,
    async handle(call) {
      const firstText = call.query('first');
      if (firstText !== undefined && !/^\d{1,4}$/.test(firstText))
        throw new RestRequestError(400, 'first must be a non-negative integer.', 'first');
      const page = await call.services.audit.events(
        call.principal,
        {
          first: firstText === undefined ? null : Number(firstText),
          after: call.query('after'),
          targetId: call.query('target_id'),
          action: call.query('action'),
        },
        { first: 'first', after: 'after', targetId: 'target_id', action: 'action' },
      );
      return {
        body: {
          events: page.edges.map(({ node }) => ({
            id: node.id,
            at: node.at.toISOString(),
            action: node.action,
            actor: node.actor,
            target_type: node.targetType,
            target_id: node.targetId,
            changed_fields: node.changedFields,
            secret_version: node.secretVersion,
            change_note: node.changeNote,
            request_id: node.requestId,
          })),
          next_cursor: page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null,
          total_count: page.totalCount,
        },
      };
    },
  },
];

/** The Idempotency-Key header of a create, as sent (undefined when absent). */
function idempotencyKeyOf(call: RestCall): string | undefined {
  return call.header(IDEMPOTENCY_KEY_HEADER);
}

/** The Google identity a google-vertex-validate body names: inline by auth_type, or a stored connection. */
function googleIdentityOf(body: z.infer<typeof GoogleVertexValidateSchema>): GoogleVertexValidationRequest {
  if (body.connection_id !== undefined) {
    refuseBesideConnectionId(body, ['auth_type', 'credentials', 'target_service_account']);
    return { credentialId: body.connection_id };
  }
  const authType = body.auth_type ? authTypeOfName(body.auth_type) : 'GOOGLE_ADC';
  switch (authType) {
    case 'GOOGLE_ADC':
      return { googleAdc: { quotaProjectId: body.quota_project_id ?? null } };
    case 'GOOGLE_SERVICE_ACCOUNT':
      if (body.credentials === undefined)
        throw new RestRequestError(400, 'credentials (the service-account key file) is required.', 'credentials');
      return { googleServiceAccountKeyFile: body.credentials };
    case 'GOOGLE_IMPERSONATION':
      return { googleImpersonation: { targetPrincipal: body.target_service_account ?? '', delegates: body.delegates ?? null } };
    default:
      throw new RestRequestError(400, 'auth_type must be google_adc, google_service_account or google_impersonation.', 'auth_type');
  }
}

/** A stored connection is named alone: inline auth fields beside connection_id are a 400 naming the first. */
function refuseBesideConnectionId(body: Record<string, unknown>, inlineFields: readonly string[]): void {
  const given = inlineFields.find((field) => body[field] !== undefined);
  if (given !== undefined) throw new RestRequestError(400, `Give connection_id or ${given}, not both.`, given);
}

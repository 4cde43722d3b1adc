// The REST door's provider routes and validation routes over real HTTP and PostgreSQL, under both
// mount points. Validation runs the real SDK clients against the fakes exactly as the GraphQL
// validation tests set them up: STSClient (this process's AWS identity, AWS_STS_ENDPOINT) and
// google-auth-library (the fake OAuth token endpoint, IAM Credentials and Vertex AI, with this
// service's own ADC key file named by GOOGLE_APPLICATION_CREDENTIALS).
import { randomUUID } from 'node:crypto';
import { FAKE_STS_CALLER_ARN, type FakeSts } from '../fakes/fake-sts-server';
import { type FakeGoogleCloud, type FakeServiceAccount, GOOGLE_TOKEN_URL } from '../fakes/fake-google-cloud';
import { type CloudFakes, startCloudFakes } from '../support/cloud-fakes';
import { anApiKey, hex, TEST_PROJECT_ID, uniqueName } from '../support/factories';
import {
  aRestOrganization,
  type RestOrganization,
  type ConnectionJson,
  expectRestError,
  keysOf,
  okBody,
  PROVIDER_FIELDS,
  type ProviderJson,
  REST_PREFIXES,
  type RestClient,
  type RestPrefix,
  restClient,
  type ValidationResultJson,
} from '../support/rest-client';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { requestsDuring, vertexCaller } from '../support/validation-harness';
import { UUID_PATTERN } from '../support/vault-client';

const ACCOUNT = '123456789012';
const PROJECT = TEST_PROJECT_ID;
const HOST_PROJECT = 'vault-host-project';
const DEFAULT_MODEL = 'gemini-2.5-flash';
const ACCESS_DENIED_MESSAGE = 'this service is not allowed to assume the role; check the trust policy and external id';
const RFC_3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

let database: TestDatabase;
let sts: FakeSts;
let google: FakeGoogleCloud;
let vault: TestApp;
/** This service's own Google identity: the service account in its ADC key file. */
let runtime: FakeServiceAccount;
let fakes: CloudFakes;

beforeAll(async () => {
  database = await createTestDatabase('rest_providers_validation');
  fakes = await startCloudFakes({ hostProject: HOST_PROJECT, vertexProject: PROJECT, vertexApi: true });
  ({ sts, google, adcAccount: runtime } = fakes);
  vault = await startTestApp({ databaseUrl: database.url, env: fakes.env });
});

afterAll(async () => {
  await vault?.stop();
  await fakes?.close();
  await database?.drop();
});

function anOrganization(prefix: RestPrefix): RestOrganization {
  return aRestOrganization(vault, prefix);
}

async function aConnection(client: RestClient, body: Record<string, unknown> = {}): Promise<ConnectionJson> {
  return okBody(
    await client.post<ConnectionJson>('/connections', {
      name: uniqueName('openai'),
      model_provider: 'openai',
      api_key: anApiKey(),
      ...body,
    }),
  );
}

async function countProviders(orgId: string): Promise<number> {
  const [row] = await database.query<{ count: number }>('SELECT count(*)::int AS count FROM providers WHERE organization_id = $1', [orgId]);
  return row.count;
}

/** Name and outcome of each check, in order. */
function outcomes(result: ValidationResultJson): [string, boolean][] {
  return result.checks.map((check) => [check.name, check.ok]);
}

/** A role the fake STS knows, trusting this service's caller with the role's external id. */
function aRole(externalId = `ext-${hex(12)}`): { iam_role_arn: string; external_id: string } {
  const arn = `arn:aws:iam::${ACCOUNT}:role/vault-bedrock-${hex(4)}`;
  sts.addRole({ arn, externalId });
  return { iam_role_arn: arn, external_id: externalId };
}

/** A service account the fake Google knows, with a key; `vertex` grants it Vertex AI in PROJECT. */
function aServiceAccount(options: { vertex?: boolean; tokenCreator?: boolean } = {}): FakeServiceAccount {
  const account = google.createServiceAccount(`sa-${hex(4)}@${PROJECT}.iam.gserviceaccount.com`, PROJECT);
  if (options.vertex) google.grantVertex(account.clientEmail, PROJECT);
  if (options.tokenCreator) google.grantTokenCreator(runtime.clientEmail, account.clientEmail);
  return account;
}

const OK_CHECKS: [string, boolean][] = [
  ['token', true],
  ['vertex', true],
];

describe.each(REST_PREFIXES)('under %s', (prefix) => {
  describe('POST /providers', () => {
    test('with a connection_id answers 200 with exactly the fields of a Provider', async () => {
      const org = anOrganization(prefix);
      const connection = await aConnection(org.admin);

      const response = await org.admin.post('/providers', { name: 'openai-eu', model_provider: 'openai', connection_id: connection.id });

      expect(response.status).toBe(200);
      expect(keysOf(response.body)).toEqual([...PROVIDER_FIELDS].sort());
    });

    test('with a connection_id describes the provider: its connection, the connection auth_type, attribution', async () => {
      const org = anOrganization(prefix);
      const connection = await aConnection(org.admin);

      const provider = okBody(
        await org.admin.post<ProviderJson>('/providers', {
          name: 'openai-eu',
          model_provider: 'openai',
          connection_id: connection.id,
          settings: { model: 'gpt-4o', weight: 3 },
        }),
      );

      expect(provider).toEqual({
        id: expect.stringMatching(UUID_PATTERN),
        org_id: org.id,
        name: 'openai-eu',
        model_provider: 'openai',
        connection_id: connection.id,
        auth_type: 'api_key',
        settings: { model: 'gpt-4o', weight: 3 },
        created_at: expect.stringMatching(RFC_3339),
        created_by_user_id: org.adminUserId,
        updated_at: provider.created_at,
        last_modified_by_user_id: org.adminUserId,
      });
    });

    test.each([
      { model_provider: 'bedrock', auth_type: 'aws_role', credentials: { iam_role_arn: `arn:aws:iam::${ACCOUNT}:role/gateway` } },
      { model_provider: 'vertex', auth_type: 'google_adc' },
    ])('backed by a $auth_type connection answers auth_type $auth_type', async (connectionBody) => {
      const org = anOrganization(prefix);
      const connection = await aConnection(org.admin, { api_key: undefined, ...connectionBody });

      const provider = okBody(
        await org.admin.post<ProviderJson>('/providers', {
          name: uniqueName('route'),
          model_provider: connectionBody.model_provider,
          connection_id: connection.id,
        }),
      );

      expect(provider.auth_type).toBe(connectionBody.auth_type);
    });

    test('anthropic with auth_type oauth_passthrough answers auth_type oauth_passthrough and connection_id null', async () => {
      const org = anOrganization(prefix);

      const provider = okBody(
        await org.admin.post<ProviderJson>('/providers', {
          name: 'claude-oauth',
          model_provider: 'anthropic',
          auth_type: 'oauth_passthrough',
        }),
      );

      expect(provider).toMatchObject({
        name: 'claude-oauth',
        model_provider: 'anthropic',
        auth_type: 'oauth_passthrough',
        connection_id: null,
      });
      expect(keysOf(provider)).toEqual([...PROVIDER_FIELDS].sort());
    });

    test('oauth_passthrough for openai is 400 on auth_type and stores nothing', async () => {
      const org = anOrganization(prefix);

      const response = await org.admin.post('/providers', {
        name: 'passthrough',
        model_provider: 'openai',
        auth_type: 'oauth_passthrough',
      });

      expectRestError(response, { status: 400, type: 'invalid_request_error', param: 'auth_type' });
      expect(await countProviders(org.id)).toBe(0);
    });

    test('neither connection_id nor oauth_passthrough is 400 on connection_id', async () => {
      const response = await anOrganization(prefix).admin.post('/providers', { name: 'nothing', model_provider: 'openai' });

      expectRestError(response, { status: 400, type: 'invalid_request_error', param: 'connection_id' });
    });

    test('a connection_id that is not a UUID is 400 on connection_id', async () => {
      const response = await anOrganization(prefix).admin.post('/providers', {
        name: 'bad-id',
        model_provider: 'openai',
        connection_id: 'not-a-uuid',
      });

      expectRestError(response, { status: 400, type: 'invalid_request_error', param: 'connection_id' });
    });

    test('a connection of another model provider is 400 on connection_id', async () => {
      const org = anOrganization(prefix);
      const connection = await aConnection(org.admin);

      const response = await org.admin.post('/providers', { name: 'mismatch', model_provider: 'mistral', connection_id: connection.id });

      expectRestError(response, { status: 400, type: 'invalid_request_error', param: 'connection_id' });
      expect(await countProviders(org.id)).toBe(0);
    });

    test("another organization's connection_id is 404 and stores nothing", async () => {
      const org = anOrganization(prefix);
      const foreign = await aConnection(anOrganization(prefix).admin);

      const response = await org.admin.post('/providers', { name: 'foreign', model_provider: 'openai', connection_id: foreign.id });

      expectRestError(response, { status: 404, type: 'not_found_error' });
      expect(await countProviders(org.id)).toBe(0);
    });

    test('an unknown field is 400 naming it', async () => {
      const org = anOrganization(prefix);
      const connection = await aConnection(org.admin);

      const response = await org.admin.post('/providers', {
        name: 'extra',
        model_provider: 'openai',
        connection_id: connection.id,
        credential_id: connection.id,
      });

      expectRestError(response, { status: 400, type: 'invalid_request_error', param: 'credential_id' });
    });

    test('by a viewer is 403 permission_error and stores nothing', async () => {
      const org = anOrganization(prefix);
      const connection = await aConnection(org.admin);

      const response = await org.viewer.post('/providers', { name: 'viewer', model_provider: 'openai', connection_id: connection.id });

      expectRestError(response, { status: 403, type: 'permission_error' });
      expect(await countProviders(org.id)).toBe(0);
    });

    test('without a token is 401 authentication_error', async () => {
      const org = anOrganization(prefix);

      const response = await org.admin.post(
        '/providers',
        { name: 'anonymous', model_provider: 'anthropic', auth_type: 'oauth_passthrough' },
        { token: null },
      );

      expectRestError(response, { status: 401, type: 'authentication_error' });
      expect(await countProviders(org.id)).toBe(0);
    });
  });

  describe('GET /providers and /providers/{id}', () => {
    test('the list is a JSON array of every provider of the organization, oldest first, as GET of each answers it', async () => {
      const org = anOrganization(prefix);
      const connection = await aConnection(org.admin);
      const created: ProviderJson[] = [];
      for (let index = 0; index < 3; index += 1) {
        created.push(
          okBody(
            await org.admin.post<ProviderJson>('/providers', {
              name: `route-${index}`,
              model_provider: 'openai',
              connection_id: connection.id,
            }),
          ),
        );
      }
      created.push(
        okBody(
          await org.admin.post<ProviderJson>('/providers', { name: 'claude', model_provider: 'anthropic', auth_type: 'oauth_passthrough' }),
        ),
      );
      await aConnection(anOrganization(prefix).admin);

      const list = okBody(await org.viewer.get<ProviderJson[]>('/providers'));

      expect(list).toEqual(created);
    });

    test('the list is [] for an organization without providers', async () => {
      expect(okBody(await anOrganization(prefix).viewer.get('/providers'))).toEqual([]);
    });

    test('GET of one provider answers it as POST did', async () => {
      const org = anOrganization(prefix);
      const connection = await aConnection(org.admin);
      const provider = okBody(
        await org.admin.post<ProviderJson>('/providers', { name: 'one', model_provider: 'openai', connection_id: connection.id }),
      );

      expect(okBody(await org.viewer.get(`/providers/${provider.id}`))).toEqual(provider);
    });

    test("GET of another organization's provider is 404", async () => {
      const owner = anOrganization(prefix);
      const provider = okBody(
        await owner.admin.post<ProviderJson>('/providers', { name: 'theirs', model_provider: 'anthropic', auth_type: 'oauth_passthrough' }),
      );

      expectRestError(await anOrganization(prefix).admin.get(`/providers/${provider.id}`), { status: 404, type: 'not_found_error' });
    });

    test('GET of an id that is not a UUID is 404 on param id', async () => {
      expectRestError(await anOrganization(prefix).admin.get('/providers/not-a-uuid'), {
        status: 404,
        type: 'not_found_error',
        param: 'id',
      });
    });
  });

  describe('DELETE /providers/{id}', () => {
    test('answers {"deleted": true}, after which GET of the provider is 404', async () => {
      const org = anOrganization(prefix);
      const provider = okBody(
        await org.admin.post<ProviderJson>('/providers', { name: 'gone', model_provider: 'anthropic', auth_type: 'oauth_passthrough' }),
      );

      const response = await org.admin.delete(`/providers/${provider.id}`);

      expect({ status: response.status, body: response.body }).toEqual({ status: 200, body: { deleted: true } });
      expectRestError(await org.admin.get(`/providers/${provider.id}`), { status: 404, type: 'not_found_error' });
    });

    test('frees its connection: the connection can then be deleted', async () => {
      const org = anOrganization(prefix);
      const connection = await aConnection(org.admin);
      const provider = okBody(
        await org.admin.post<ProviderJson>('/providers', { name: 'user', model_provider: 'openai', connection_id: connection.id }),
      );
      expectRestError(await org.admin.delete(`/connections/${connection.id}`), { status: 409, type: 'conflict_error' });

      okBody(await org.admin.delete(`/providers/${provider.id}`));

      expect(okBody(await org.admin.delete(`/connections/${connection.id}`))).toEqual({ deleted: true });
    });

    test('by a viewer is 403 permission_error and keeps the provider', async () => {
      const org = anOrganization(prefix);
      const provider = okBody(
        await org.admin.post<ProviderJson>('/providers', { name: 'kept', model_provider: 'anthropic', auth_type: 'oauth_passthrough' }),
      );

      expectRestError(await org.viewer.delete(`/providers/${provider.id}`), { status: 403, type: 'permission_error' });
      expect(okBody(await org.admin.get(`/providers/${provider.id}`))).toEqual(provider);
    });

    test("of another organization's provider is 404 and keeps it", async () => {
      const owner = anOrganization(prefix);
      const provider = okBody(
        await owner.admin.post<ProviderJson>('/providers', { name: 'theirs', model_provider: 'anthropic', auth_type: 'oauth_passthrough' }),
      );

      expectRestError(await anOrganization(prefix).admin.delete(`/providers/${provider.id}`), { status: 404, type: 'not_found_error' });
      expect(await countProviders(owner.id)).toBe(1);
    });
  });

  describe('POST /connections/aws-role-validate', () => {
    const validate = (client: RestClient, body: Record<string, unknown>) =>
      client.post<ValidationResultJson>('/connections/aws-role-validate', body);

    test('with {region, iam_role_arn, external_id} of a role that trusts this service answers ok with both checks', async () => {
      const result = okBody(await validate(anOrganization(prefix).admin, { region: 'us-east-1', ...aRole() }));

      expect(keysOf(result)).toEqual(['checks', 'message', 'ok']);
      expect(result).toMatchObject({ ok: true, message: null });
      expect(outcomes(result)).toEqual([
        ['assume-role', true],
        ['external-id-required', true],
      ]);
      for (const check of result.checks) expect(keysOf(check)).toEqual(['message', 'name', 'ok']);
    });

    test('sends AssumeRole with the given role ARN and external id', async () => {
      const role = aRole();
      const { requests } = await requestsDuring(sts, () => validate(anOrganization(prefix).admin, { region: 'us-east-1', ...role }));

      expect(requests[0]).toMatchObject({ Action: 'AssumeRole', RoleArn: role.iam_role_arn, ExternalId: role.external_id });
    });

    test("with a wrong external id answers ok: false with the AccessDenied sentence, and not STS's own text", async () => {
      const role = aRole();

      const response = await validate(anOrganization(prefix).admin, {
        region: 'us-east-1',
        iam_role_arn: role.iam_role_arn,
        external_id: `wrong-${hex(8)}`,
      });

      const result = okBody(response);
      expect(result).toMatchObject({ ok: false, message: ACCESS_DENIED_MESSAGE });
      expect(outcomes(result)).toEqual([['assume-role', false]]);
      expect(response.text).not.toContain(FAKE_STS_CALLER_ARN);
    });

    test('with {connection_id} validates the stored role with its stored external id', async () => {
      const org = anOrganization(prefix);
      const role = aRole();
      const connection = await aConnection(org.admin, {
        model_provider: 'bedrock',
        auth_type: 'aws_role',
        api_key: undefined,
        credentials: role,
      });

      const { value: response, requests } = await requestsDuring(sts, () => validate(org.admin, { connection_id: connection.id }));

      expect(outcomes(okBody(response))).toEqual([
        ['assume-role', true],
        ['external-id-required', true],
      ]);
      expect(requests[0]).toMatchObject({ RoleArn: role.iam_role_arn, ExternalId: role.external_id });
    });

    test('with {connection_id} of a role whose external id the vault generated, assumes it with the one aws-trust-info shows', async () => {
      const org = anOrganization(prefix);
      const arn = `arn:aws:iam::${ACCOUNT}:role/vault-generated-${hex(4)}`;
      const connection = await aConnection(org.admin, {
        model_provider: 'bedrock',
        auth_type: 'aws_role',
        api_key: undefined,
        credentials: { iam_role_arn: arn },
      });
      const trust = okBody(await org.admin.get<{ external_id: string }>(`/connections/${connection.id}/aws-trust-info`));
      sts.addRole({ arn, externalId: trust.external_id });

      const result = okBody(await validate(org.admin, { connection_id: connection.id, region: 'us-east-1' }));

      expect(result.ok).toBe(true);
    });

    test.each(['region', 'iam_role_arn', 'external_id'])(
      'without %s (and without connection_id) is 400 on that field, before any STS call',
      async (field) => {
        const body: Record<string, unknown> = { region: 'us-east-1', ...aRole() };
        delete body[field];

        const { value: response, requests } = await requestsDuring(sts, () => validate(anOrganization(prefix).admin, body));

        expectRestError(response, { status: 400, type: 'invalid_request_error', param: field });
        expect(requests).toEqual([]);
      },
    );

    test('connection_id beside iam_role_arn is 400 on iam_role_arn', async () => {
      const org = anOrganization(prefix);
      const connection = await aConnection(org.admin);

      const response = await validate(org.admin, { connection_id: connection.id, iam_role_arn: aRole().iam_role_arn });

      expectRestError(response, { status: 400, type: 'invalid_request_error', param: 'iam_role_arn' });
    });

    test('a malformed role ARN is 400 on iam_role_arn', async () => {
      const response = await validate(anOrganization(prefix).admin, {
        region: 'us-east-1',
        iam_role_arn: 'arn:aws:iam::123:user/x',
        external_id: 'ext-12345678',
      });

      expectRestError(response, { status: 400, type: 'invalid_request_error', param: 'iam_role_arn' });
    });

    test('a malformed region is 400 on region', async () => {
      const response = await validate(anOrganization(prefix).admin, { ...aRole(), region: 'Mars 1' });

      expectRestError(response, { status: 400, type: 'invalid_request_error', param: 'region' });
    });

    test('a connection_id of an api_key connection is 400 on connection_id', async () => {
      const org = anOrganization(prefix);
      const connection = await aConnection(org.admin);

      expectRestError(await validate(org.admin, { connection_id: connection.id }), {
        status: 400,
        type: 'invalid_request_error',
        param: 'connection_id',
      });
    });

    test('a connection_id that is not a UUID is 400 on connection_id', async () => {
      expectRestError(await validate(anOrganization(prefix).admin, { connection_id: 'not-a-uuid' }), {
        status: 400,
        type: 'invalid_request_error',
        param: 'connection_id',
      });
    });

    test("another organization's connection_id is 404, before any STS call", async () => {
      const connection = await aConnection(anOrganization(prefix).admin, {
        model_provider: 'bedrock',
        auth_type: 'aws_role',
        api_key: undefined,
        credentials: aRole(),
      });

      const { value: response, requests } = await requestsDuring(sts, () =>
        validate(anOrganization(prefix).admin, { connection_id: connection.id }),
      );

      expectRestError(response, { status: 404, type: 'not_found_error' });
      expect(requests).toEqual([]);
    });

    test('by a viewer is 403 permission_error, before any STS call', async () => {
      const { value: response, requests } = await requestsDuring(sts, () =>
        validate(anOrganization(prefix).viewer, { region: 'us-east-1', ...aRole() }),
      );

      expectRestError(response, { status: 403, type: 'permission_error' });
      expect(requests).toEqual([]);
    });

    test('without a token is 401 authentication_error', async () => {
      const response = await anOrganization(prefix).admin.post(
        '/connections/aws-role-validate',
        { region: 'us-east-1', ...aRole() },
        { token: null },
      );

      expectRestError(response, { status: 401, type: 'authentication_error' });
    });
  });

  describe('POST /connections/google-vertex-validate', () => {
    const validate = (client: RestClient, body: Record<string, unknown>) =>
      client.post<ValidationResultJson>('/connections/google-vertex-validate', body);
    const target = { project_id: PROJECT, location: 'us-central1' };

    test('without auth_type validates google_adc: the runtime identity calls Vertex, token ok, vertex ok', async () => {
      const { value: response, requests } = await requestsDuring(google, () => validate(anOrganization(prefix).admin, target));

      const result = okBody(response);
      expect(keysOf(result)).toEqual(['checks', 'message', 'ok']);
      expect(result).toMatchObject({ ok: true, message: null });
      expect(outcomes(result)).toEqual(OK_CHECKS);
      for (const check of result.checks) expect(keysOf(check)).toEqual(['message', 'name', 'ok']);
      expect(vertexCaller(google, requests)).toBe(runtime.clientEmail);
    });

    test('google_adc with quota_project_id is ok', async () => {
      const result = okBody(
        await validate(anOrganization(prefix).admin, { ...target, auth_type: 'google_adc', quota_project_id: 'vault-quota-project' }),
      );

      expect(outcomes(result)).toEqual(OK_CHECKS);
    });

    test('google_service_account with the key JSON in credentials is ok, and Vertex sees that account', async () => {
      const account = aServiceAccount({ vertex: true });

      const { value: response, requests } = await requestsDuring(google, () =>
        validate(anOrganization(prefix).admin, {
          ...target,
          auth_type: 'google_service_account',
          credentials: account.keyFile(google.tokenUrl),
        }),
      );

      expect(outcomes(okBody(response))).toEqual(OK_CHECKS);
      expect(vertexCaller(google, requests)).toBe(account.clientEmail);
    });

    test('google_service_account calls countTokens for the given location and model', async () => {
      const account = aServiceAccount({ vertex: true });

      const { requests } = await requestsDuring(google, () =>
        validate(anOrganization(prefix).admin, {
          project_id: PROJECT,
          location: 'europe-west4',
          model: 'gemini-2.5-pro',
          auth_type: 'google_service_account',
          credentials: account.keyFile(google.tokenUrl),
        }),
      );

      expect(requests.filter((request) => request.service === 'vertex').map((request) => request.path)).toEqual([
        `/v1/projects/${PROJECT}/locations/europe-west4/publishers/google/models/gemini-2.5-pro:countTokens`,
      ]);
    });

    test('google_service_account whose account lacks Vertex access answers ok: false with vertex failing', async () => {
      const account = aServiceAccount();

      const result = okBody(
        await validate(anOrganization(prefix).admin, {
          ...target,
          auth_type: 'google_service_account',
          credentials: account.keyFile(google.tokenUrl),
        }),
      );

      expect(result.ok).toBe(false);
      expect(outcomes(result)).toEqual([
        ['token', true],
        ['vertex', false],
      ]);
    });

    test('google_service_account with a token_uri other than the configured one is 400 on credentials.token_uri, before any request', async () => {
      const account = aServiceAccount({ vertex: true });

      const { value: response, requests } = await requestsDuring(google, () =>
        validate(anOrganization(prefix).admin, {
          ...target,
          auth_type: 'google_service_account',
          credentials: account.keyFile(GOOGLE_TOKEN_URL),
        }),
      );

      expectRestError(response, { status: 400, type: 'invalid_request_error', param: 'credentials.token_uri' });
      expect(requests).toEqual([]);
    });

    test('google_service_account without credentials is 400 on credentials', async () => {
      expectRestError(await validate(anOrganization(prefix).admin, { ...target, auth_type: 'google_service_account' }), {
        status: 400,
        type: 'invalid_request_error',
        param: 'credentials',
      });
    });

    test('google_impersonation of a target the runtime may impersonate is ok, and Vertex sees the target', async () => {
      const impersonated = aServiceAccount({ vertex: true, tokenCreator: true });

      const { value: response, requests } = await requestsDuring(google, () =>
        validate(anOrganization(prefix).admin, {
          ...target,
          auth_type: 'google_impersonation',
          target_service_account: impersonated.clientEmail,
        }),
      );

      expect(outcomes(okBody(response))).toEqual(OK_CHECKS);
      expect(vertexCaller(google, requests)).toBe(impersonated.clientEmail);
    });

    test('google_impersonation through delegates is ok: runtime → delegate → target', async () => {
      const delegate = aServiceAccount({ tokenCreator: true });
      const impersonated = aServiceAccount({ vertex: true });
      google.grantTokenCreator(delegate.clientEmail, impersonated.clientEmail);

      const { value: response, requests } = await requestsDuring(google, () =>
        validate(anOrganization(prefix).admin, {
          ...target,
          auth_type: 'google_impersonation',
          target_service_account: impersonated.clientEmail,
          delegates: [delegate.clientEmail],
        }),
      );

      expect(outcomes(okBody(response))).toEqual(OK_CHECKS);
      expect(vertexCaller(google, requests)).toBe(impersonated.clientEmail);
    });

    test('google_impersonation without target_service_account is 400 on target_service_account', async () => {
      expectRestError(await validate(anOrganization(prefix).admin, { ...target, auth_type: 'google_impersonation' }), {
        status: 400,
        type: 'invalid_request_error',
        param: 'target_service_account',
      });
    });

    test('the alias google_service_account_impersonation validates as google_impersonation', async () => {
      const impersonated = aServiceAccount({ vertex: true, tokenCreator: true });

      const result = okBody(
        await validate(anOrganization(prefix).admin, {
          ...target,
          auth_type: 'google_service_account_impersonation',
          target_service_account: impersonated.clientEmail,
        }),
      );

      expect(outcomes(result)).toEqual(OK_CHECKS);
    });

    test('with {connection_id} of a stored google_service_account connection validates its stored key', async () => {
      const org = anOrganization(prefix);
      const account = aServiceAccount({ vertex: true });
      const connection = await aConnection(org.admin, {
        model_provider: 'vertex',
        auth_type: 'google_service_account',
        api_key: undefined,
        credentials: account.keyFile(google.tokenUrl),
      });

      const { value: response, requests } = await requestsDuring(google, () =>
        validate(org.admin, { ...target, connection_id: connection.id }),
      );

      expect(outcomes(okBody(response))).toEqual(OK_CHECKS);
      expect(vertexCaller(google, requests)).toBe(account.clientEmail);
    });

    test('with {connection_id} of a stored google_impersonation connection validates its stored target', async () => {
      const org = anOrganization(prefix);
      const impersonated = aServiceAccount({ vertex: true, tokenCreator: true });
      const connection = await aConnection(org.admin, {
        model_provider: 'vertex',
        auth_type: 'google_impersonation',
        api_key: undefined,
        credentials: { target_service_account: impersonated.clientEmail },
      });

      const { value: response, requests } = await requestsDuring(google, () =>
        validate(org.admin, { ...target, connection_id: connection.id }),
      );

      expect(outcomes(okBody(response))).toEqual(OK_CHECKS);
      expect(vertexCaller(google, requests)).toBe(impersonated.clientEmail);
    });

    test('with {connection_id} of a stored google_adc connection validates with the runtime identity', async () => {
      const org = anOrganization(prefix);
      const connection = await aConnection(org.admin, { model_provider: 'vertex', auth_type: 'google_adc', api_key: undefined });

      const { value: response, requests } = await requestsDuring(google, () =>
        validate(org.admin, { ...target, connection_id: connection.id }),
      );

      expect(outcomes(okBody(response))).toEqual(OK_CHECKS);
      expect(vertexCaller(google, requests)).toBe(runtime.clientEmail);
    });

    test('with {connection_id} and no project_id uses the settings.project_id of a google_adc connection', async () => {
      const org = anOrganization(prefix);
      const connection = await aConnection(org.admin, {
        model_provider: 'vertex',
        auth_type: 'google_adc',
        api_key: undefined,
        settings: { project_id: PROJECT, location: 'us-central1' },
      });

      const { value: response, requests } = await requestsDuring(google, () =>
        validate(org.admin, { location: 'us-central1', connection_id: connection.id }),
      );

      expect(outcomes(okBody(response))).toEqual(OK_CHECKS);
      expect(requests.filter((request) => request.service === 'vertex').map((request) => request.path)).toEqual([
        `/v1/projects/${PROJECT}/locations/us-central1/publishers/google/models/gemini-2.5-flash:countTokens`,
      ]);
    });

    test("with {connection_id} and no project_id uses a google_service_account connection's own project", async () => {
      const org = anOrganization(prefix);
      const account = aServiceAccount({ vertex: true });
      const connection = await aConnection(org.admin, {
        model_provider: 'vertex',
        auth_type: 'google_service_account',
        api_key: undefined,
        credentials: account.keyFile(google.tokenUrl),
      });

      const { value: response, requests } = await requestsDuring(google, () =>
        validate(org.admin, { location: 'us-central1', connection_id: connection.id }),
      );

      expect(outcomes(okBody(response))).toEqual(OK_CHECKS);
      expect(vertexCaller(google, requests)).toBe(account.clientEmail);
    });

    test('with {connection_id} of a google_adc connection without a project setting, no project_id is 400 on project_id', async () => {
      const org = anOrganization(prefix);
      const connection = await aConnection(org.admin, { model_provider: 'vertex', auth_type: 'google_adc', api_key: undefined });

      const { value: response, requests } = await requestsDuring(google, () =>
        validate(org.admin, { location: 'us-central1', connection_id: connection.id }),
      );

      expectRestError(response, { status: 400, type: 'invalid_request_error', param: 'project_id' });
      expect(requests).toEqual([]);
    });

    test('connection_id beside credentials is 400 on credentials', async () => {
      const org = anOrganization(prefix);
      const connection = await aConnection(org.admin, { model_provider: 'vertex', auth_type: 'google_adc', api_key: undefined });

      const response = await validate(org.admin, {
        ...target,
        connection_id: connection.id,
        credentials: aServiceAccount().keyFile(google.tokenUrl),
      });

      expectRestError(response, { status: 400, type: 'invalid_request_error', param: 'credentials' });
    });

    test('a connection_id of an api_key connection is 400 on connection_id', async () => {
      const org = anOrganization(prefix);
      const connection = await aConnection(org.admin);

      expectRestError(await validate(org.admin, { ...target, connection_id: connection.id }), {
        status: 400,
        type: 'invalid_request_error',
        param: 'connection_id',
      });
    });

    test.each(['project_id', 'location'])('without %s is 400 on that field, before any request', async (field) => {
      const body: Record<string, unknown> = { ...target };
      delete body[field];

      const { value: response, requests } = await requestsDuring(google, () => validate(anOrganization(prefix).admin, body));

      expectRestError(response, { status: 400, type: 'invalid_request_error', param: field });
      expect(requests).toEqual([]);
    });

    test('an auth_type that is not a Google one is 400 on auth_type', async () => {
      expectRestError(await validate(anOrganization(prefix).admin, { ...target, auth_type: 'api_key' }), {
        status: 400,
        type: 'invalid_request_error',
        param: 'auth_type',
      });
    });

    test('an unknown model_api_family is 400 on model_api_family', async () => {
      expectRestError(await validate(anOrganization(prefix).admin, { ...target, model_api_family: 'openai_chat' }), {
        status: 400,
        type: 'invalid_request_error',
        param: 'model_api_family',
      });
    });

    test('a malformed project_id is 400 on project_id', async () => {
      expectRestError(await validate(anOrganization(prefix).admin, { ...target, project_id: 'Not A Project' }), {
        status: 400,
        type: 'invalid_request_error',
        param: 'project_id',
      });
    });

    test('by a viewer is 403 permission_error, before any request', async () => {
      const { value: response, requests } = await requestsDuring(google, () => validate(anOrganization(prefix).viewer, target));

      expectRestError(response, { status: 403, type: 'permission_error' });
      expect(requests).toEqual([]);
    });

    test('without a token is 401 authentication_error', async () => {
      expectRestError(await anOrganization(prefix).admin.post('/connections/google-vertex-validate', target, { token: null }), {
        status: 401,
        type: 'authentication_error',
      });
    });

    test('never answers an access token the fake issued', async () => {
      const account = aServiceAccount({ vertex: true });
      const response = await validate(anOrganization(prefix).admin, {
        ...target,
        auth_type: 'google_service_account',
        credentials: account.keyFile(google.tokenUrl),
      });

      expect(okBody(response).ok).toBe(true);
      expect(google.issuedTokens.length).toBeGreaterThan(0);
      expect(google.issuedTokens.filter((token) => response.text.includes(token))).toEqual([]);
    });
  });
});

test('google-vertex-validate without model counts tokens for gemini-2.5-flash', async () => {
  const { requests } = await requestsDuring(google, () =>
    restClient(vault, { token: vault.token({ orgId: randomUUID() }) }).post('/connections/google-vertex-validate', {
      project_id: PROJECT,
      location: 'us-central1',
    }),
  );

  expect(requests.filter((request) => request.service === 'vertex').map((request) => request.path)).toEqual([
    `/v1/projects/${PROJECT}/locations/us-central1/publishers/google/models/${DEFAULT_MODEL}:countTokens`,
  ]);
});

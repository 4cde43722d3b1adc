// The REST door's connection routes over real HTTP and PostgreSQL, as the existing clients call
// them (the generated SDK, the Terraform provider, the reference's curl examples), under both
// mount points: create for every auth type and alias, list, get, partial update with rotation,
// change notes and ETag/If-Match, delete, AWS trust information, and every error in the envelope.
// The sealed secret is checked with SecretStore, the one reader allowed to open it.
import { anApiKey, hex, rsaPrivateKeyPem, sharedRsaPrivateKeyPem, uniqueName } from '../support/factories';
import {
  aRestOrganization,
  type RestOrganization,
  CONNECTION_FIELDS,
  type ConnectionJson,
  expectRestError,
  keysOf,
  okBody,
  PROVIDER_FIELDS,
  type ProviderJson,
  REST_PREFIXES,
  type RestClient,
  type RestPrefix,
  type RestResponse,
} from '../support/rest-client';
import { startTestApp, type TestApp } from '../support/test-app';
import { wronglySignedToken } from '../support/tokens';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { openSecret, UUID_PATTERN } from '../support/vault-client';

const PRINCIPAL_ARN = 'arn:aws:iam::123456789012:role/vault-runtime';
const ROLE_ARN = 'arn:aws:iam::210987654321:role/gateway-bedrock';
const RFC_3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const GENERATED_EXTERNAL_ID = /^[A-Za-z0-9_-]{32}$/;
const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';

let database: TestDatabase;
let vault: TestApp;
/** The same database behind an application that has an AWS identity for trust policies. */
let configuredVault: TestApp;

beforeAll(async () => {
  database = await createTestDatabase('rest_connections');
  vault = await startTestApp({ databaseUrl: database.url });
  configuredVault = await startTestApp({ databaseUrl: database.url, env: { AWS_PRINCIPAL_ARN: PRINCIPAL_ARN } });
});

afterAll(async () => {
  await configuredVault?.stop();
  await vault?.stop();
  await database?.drop();
});

/** A brand-new organization's REST callers under `prefix` of `app`. */
function anOrganization(prefix: RestPrefix, app: TestApp = vault): RestOrganization {
  return aRestOrganization(app, prefix);
}

/** A valid OpenAI connection body, as the reference's example spells it. */
function anOpenAiBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: uniqueName('openai'), model_provider: 'openai', api_key: anApiKey(), ...overrides };
}

/** A service-account key file exactly as Google issues it, extra fields included, with a real RSA key. */
function aGoogleKeyFile(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const clientEmail = `vault-${hex(3)}@vault-test-project.iam.gserviceaccount.com`;
  return {
    type: 'service_account',
    project_id: 'vault-test-project',
    private_key_id: hex(20),
    private_key: sharedRsaPrivateKeyPem(),
    client_email: clientEmail,
    client_id: '104857600123456789012',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: GOOGLE_TOKEN_URI,
    auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
    client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(clientEmail)}`,
    universe_domain: 'googleapis.com',
    ...overrides,
  };
}

/** POSTs a connection and returns it with its ETag, failing the test on any error. */
async function created(client: RestClient, body: Record<string, unknown>): Promise<{ connection: ConnectionJson; etag: string }> {
  const response = await client.post<ConnectionJson>('/connections', body);
  return { connection: okBody(response), etag: response.headers.get('etag') ?? '' };
}

async function read(client: RestClient, id: string): Promise<{ connection: ConnectionJson; etag: string }> {
  const response = await client.get<ConnectionJson>(`/connections/${id}`);
  return { connection: okBody(response), etag: response.headers.get('etag') ?? '' };
}

async function countConnections(orgId: string): Promise<number> {
  const [row] = await database.query<{ count: number }>('SELECT count(*)::int AS count FROM credentials WHERE organization_id = $1', [
    orgId,
  ]);
  return row.count;
}

/** The answer's headers and body as one text, to search for values that must not be there. */
function answerText(response: RestResponse<unknown>): string {
  return `${JSON.stringify([...response.headers])}\n${response.text}`;
}

describe.each(REST_PREFIXES)('under %s', (prefix) => {
  describe('POST /connections', () => {
    const referenceKey = 'sk-proj-0123456789abcdefREFERENCE';
    const referenceExample = { name: 'OpenAI Production', model_provider: 'openai', api_key: referenceKey };

    test("the reference's example answers 200 with exactly the fields of a Connection", async () => {
      const response = await anOrganization(prefix).admin.post('/connections', referenceExample);

      expect(response.status).toBe(200);
      expect(keysOf(response.body)).toEqual([...CONNECTION_FIELDS].sort());
    });

    test("the reference's example describes the new connection: provider, defaults, key_last4, version 1, attribution", async () => {
      const org = anOrganization(prefix);
      const before = Date.now();
      const { connection } = await created(org.admin, referenceExample);
      const after = Date.now();

      expect(connection).toEqual({
        id: expect.stringMatching(UUID_PATTERN),
        org_id: org.id,
        name: 'OpenAI Production',
        model_provider: 'openai',
        auth_type: 'api_key',
        base_url: 'https://api.openai.com/v1',
        settings: {},
        stores_key_material: true,
        key_last4: referenceKey.slice(-4),
        secret_path: expect.any(String),
        secret_version: 1,
        secret_rotated_at: expect.stringMatching(RFC_3339),
        created_at: expect.stringMatching(RFC_3339),
        updated_at: expect.stringMatching(RFC_3339),
        created_by_user_id: org.adminUserId,
        last_modified_at: expect.stringMatching(RFC_3339),
        last_modified_by_user_id: org.adminUserId,
        last_change_note: null,
        last_used_at: null,
      });
      for (const timestamp of [connection.created_at, connection.updated_at, connection.secret_rotated_at, connection.last_modified_at]) {
        expect(Date.parse(timestamp)).toBeGreaterThanOrEqual(before - 1000);
        expect(Date.parse(timestamp)).toBeLessThanOrEqual(after + 1000);
      }
    });

    test('secret_path is a reference that holds no key material and stays the same through a rotation', async () => {
      const org = anOrganization(prefix);
      const { connection } = await created(org.admin, referenceExample);
      const rotated = okBody(await org.admin.put<ConnectionJson>(`/connections/${connection.id}`, { api_key: anApiKey() }));

      expect(connection.secret_path).toMatch(/\S/);
      expect(connection.secret_path).not.toContain(referenceKey.slice(0, -4));
      expect(rotated.secret_path).toBe(connection.secret_path);
      expect((await read(org.admin, connection.id)).connection.secret_path).toBe(connection.secret_path);
    });

    test("the reference's example answers no api_key, no credentials and never the key beyond its last four characters", async () => {
      const response = await anOrganization(prefix).admin.post('/connections', referenceExample);

      expect(response.status).toBe(200);
      expect(response.body).not.toHaveProperty('api_key');
      expect(response.body).not.toHaveProperty('credentials');
      expect(answerText(response)).not.toContain(referenceKey.slice(0, -4));
    });

    test('answers an ETag (a quoted revision) that GET of the connection repeats', async () => {
      const org = anOrganization(prefix);
      const { connection, etag } = await created(org.admin, anOpenAiBody());

      expect(etag).toMatch(/^"[^"]+"$/);
      expect((await read(org.admin, connection.id)).etag).toBe(etag);
    });

    test('seals exactly the api_key it was given', async () => {
      const org = anOrganization(prefix);
      const body = anOpenAiBody();
      const { connection } = await created(org.admin, body);

      expect(await openSecret(vault, org.id, connection.id)).toEqual({
        authType: 'API_KEY',
        secretVersion: 1,
        payload: { apiKey: body.api_key },
      });
    });

    test('keeps change_note, trimmed, as last_change_note', async () => {
      const { connection } = await created(anOrganization(prefix).admin, anOpenAiBody({ change_note: '  first key for prod \n' }));

      expect(connection.last_change_note).toBe('first key for prod');
    });

    test('keeps base_url and settings as given', async () => {
      const { connection } = await created(
        anOrganization(prefix).admin,
        anOpenAiBody({ base_url: 'https://openai-proxy.example.com/v1', settings: { organization: 'org-vault', timeout_ms: 3000 } }),
      );

      expect(connection).toMatchObject({
        base_url: 'https://openai-proxy.example.com/v1',
        settings: { organization: 'org-vault', timeout_ms: 3000 },
      });
    });

    test('is accepted with Content-Type application/json; charset=utf-8', async () => {
      const response = await anOrganization(prefix).admin.request('POST', '/connections', {
        body: anOpenAiBody(),
        contentType: 'application/json; charset=utf-8',
      });

      expect(response.status).toBe(200);
    });
  });

  describe('POST /connections for each auth type', () => {
    interface AuthCase {
      title: string;
      body: () => Record<string, unknown>;
      authType: string;
      storesKeyMaterial: boolean;
      /** The payload the secret store must open, from the body that was sent. */
      sealed: (body: Record<string, unknown>) => unknown;
    }
    const credentialsOf = (body: Record<string, unknown>) => body.credentials as Record<string, unknown>;
    const cases: AuthCase[] = [
      {
        title: 'aws_role with iam_role_arn and external_id',
        body: () => ({
          name: uniqueName('bedrock'),
          model_provider: 'bedrock',
          auth_type: 'aws_role',
          credentials: { iam_role_arn: ROLE_ARN, external_id: `ext-${hex(8)}` },
          settings: { region: 'eu-west-1' },
        }),
        authType: 'aws_role',
        storesKeyMaterial: true,
        sealed: (body) => ({ iamRoleArn: ROLE_ARN, externalId: credentialsOf(body).external_id }),
      },
      {
        title: 'aws_keys with access_key_id, secret_access_key and session_token',
        body: () => ({
          name: uniqueName('bedrock'),
          model_provider: 'bedrock',
          auth_type: 'aws_keys',
          credentials: {
            access_key_id: `AKIA${hex(8).toUpperCase()}`,
            secret_access_key: `wJalr${hex(16)}`,
            session_token: `FwoGZXIvYXdzE${hex(24)}`,
          },
        }),
        authType: 'aws_keys',
        storesKeyMaterial: true,
        sealed: (body) => ({
          accessKeyId: credentialsOf(body).access_key_id,
          secretAccessKey: credentialsOf(body).secret_access_key,
          sessionToken: credentialsOf(body).session_token,
        }),
      },
      {
        title: 'aws_keys without session_token',
        body: () => ({
          name: uniqueName('bedrock'),
          model_provider: 'bedrock',
          auth_type: 'aws_keys',
          credentials: { access_key_id: `AKIA${hex(8).toUpperCase()}`, secret_access_key: `wJalr${hex(16)}` },
        }),
        authType: 'aws_keys',
        storesKeyMaterial: true,
        sealed: (body) => ({ accessKeyId: credentialsOf(body).access_key_id, secretAccessKey: credentialsOf(body).secret_access_key }),
      },
      {
        title: 'bedrock_api_key with a top-level api_key',
        body: () => ({ name: uniqueName('bedrock'), model_provider: 'bedrock', auth_type: 'bedrock_api_key', api_key: `ABSK${hex(24)}` }),
        authType: 'bedrock_api_key',
        storesKeyMaterial: true,
        sealed: (body) => ({ apiKey: body.api_key }),
      },
      {
        title: 'google_service_account with the key JSON as Google issues it',
        body: () => ({
          name: uniqueName('vertex'),
          model_provider: 'vertex',
          auth_type: 'google_service_account',
          credentials: aGoogleKeyFile(),
        }),
        authType: 'google_service_account',
        storesKeyMaterial: true,
        sealed: (body) =>
          expect.objectContaining({
            clientEmail: credentialsOf(body).client_email,
            privateKey: credentialsOf(body).private_key,
            privateKeyId: credentialsOf(body).private_key_id,
            projectId: 'vault-test-project',
          }) as unknown,
      },
      {
        title: 'google_impersonation with target_service_account and delegates',
        body: () => ({
          name: uniqueName('vertex'),
          model_provider: 'vertex',
          auth_type: 'google_impersonation',
          credentials: {
            target_service_account: `gateway-${hex(3)}@vault-test-project.iam.gserviceaccount.com`,
            delegates: [`delegate-${hex(3)}@vault-test-project.iam.gserviceaccount.com`],
          },
        }),
        authType: 'google_impersonation',
        storesKeyMaterial: true,
        sealed: (body) => ({
          targetPrincipal: credentialsOf(body).target_service_account,
          delegates: credentialsOf(body).delegates,
        }),
      },
      {
        title: 'google_adc with settings.quota_project_id',
        body: () => ({
          name: uniqueName('vertex'),
          model_provider: 'vertex',
          auth_type: 'google_adc',
          settings: { quota_project_id: 'vault-quota-project' },
        }),
        authType: 'google_adc',
        storesKeyMaterial: false,
        sealed: () => null,
      },
    ];

    test.each(cases.map((authCase) => [authCase.title, authCase] as const))(
      '%s answers auth_type by its canonical name and seals exactly what was sent',
      async (_title, { body: makeBody, authType, storesKeyMaterial, sealed }) => {
        const org = anOrganization(prefix);
        const body = makeBody();
        const { connection } = await created(org.admin, body);

        expect(connection).toMatchObject({ auth_type: authType, stores_key_material: storesKeyMaterial, secret_version: 1 });
        expect(keysOf(connection)).toEqual([...CONNECTION_FIELDS].sort());
        const secret = await openSecret(vault, org.id, connection.id);
        expect(secret?.payload ?? null).toEqual(sealed(body));
      },
    );

    test('google_adc keeps settings.quota_project_id in settings', async () => {
      const { connection } = await created(anOrganization(prefix).admin, {
        name: uniqueName('vertex'),
        model_provider: 'vertex',
        auth_type: 'google_adc',
        settings: { quota_project_id: 'vault-quota-project' },
      });

      expect(connection.settings).toEqual({ quota_project_id: 'vault-quota-project' });
      expect(connection.key_last4).toBeNull();
    });

    test('vertex without auth_type or credentials is google_adc, its default', async () => {
      const { connection } = await created(anOrganization(prefix).admin, { name: uniqueName('vertex'), model_provider: 'vertex' });

      expect(connection).toMatchObject({ auth_type: 'google_adc', stores_key_material: false, key_last4: null });
    });

    test('google_service_account ignores the key file fields Google adds (auth_uri, certificate URLs, universe_domain)', async () => {
      const org = anOrganization(prefix);
      const { connection } = await created(org.admin, {
        name: uniqueName('vertex'),
        model_provider: 'vertex',
        auth_type: 'google_service_account',
        credentials: aGoogleKeyFile({ private_key: rsaPrivateKeyPem() }),
      });

      const secret = await openSecret(vault, org.id, connection.id);
      const stored = JSON.stringify(secret?.payload);
      // The values of the fields Google adds: none of them is kept.
      for (const value of ['accounts.google.com/o/oauth2/auth', 'oauth2/v1/certs', 'robot/v1/metadata/x509', 'universe_domain']) {
        expect(stored).not.toContain(value);
      }
      expect(connection.settings).toEqual({});
    });

    test("google_service_account with a token_uri other than Google's is 400 on credentials.token_uri and stores nothing", async () => {
      const org = anOrganization(prefix);
      const keyFile = aGoogleKeyFile({ token_uri: 'https://token-thief.example.com/token' });
      const response = await org.admin.post('/connections', {
        name: uniqueName('vertex'),
        model_provider: 'vertex',
        auth_type: 'google_service_account',
        credentials: keyFile,
      });

      expectRestError(response, {
        status: 400,
        type: 'invalid_request_error',
        param: 'credentials.token_uri',
        notEchoing: [(keyFile.private_key as string).split('\n')[5]],
      });
      expect(await countConnections(org.id)).toBe(0);
    });

    test('aws_role takes iam_role_arn from settings, and keeps it out of the stored settings', async () => {
      const org = anOrganization(prefix);
      const { connection } = await created(org.admin, {
        name: uniqueName('bedrock'),
        model_provider: 'bedrock',
        auth_type: 'aws_role',
        settings: { iam_role_arn: ROLE_ARN, region: 'us-west-2' },
      });

      expect(connection).toMatchObject({ auth_type: 'aws_role', settings: { region: 'us-west-2' } });
      expect(connection.settings).not.toHaveProperty('iam_role_arn');
      expect(await openSecret(vault, org.id, connection.id)).toMatchObject({ payload: { iamRoleArn: ROLE_ARN } });
    });

    const aliases = [
      { alias: 'bearer_api_key', canonical: 'api_key', body: () => anOpenAiBody() },
      { alias: 'x_api_key', canonical: 'api_key', body: () => ({ ...anOpenAiBody(), model_provider: 'anthropic' }) },
      {
        alias: 'azure_api_key',
        canonical: 'api_key',
        body: () => ({
          ...anOpenAiBody(),
          model_provider: 'azure_openai',
          base_url: 'https://vault-test.openai.azure.com/openai',
          settings: { api_version: '2024-10-21' },
        }),
      },
      {
        alias: 'aws_static_credentials',
        canonical: 'aws_keys',
        body: () => ({
          name: uniqueName('bedrock'),
          model_provider: 'bedrock',
          credentials: { access_key_id: `AKIA${hex(8).toUpperCase()}`, secret_access_key: `wJalr${hex(16)}` },
        }),
      },
      {
        alias: 'google_service_account_impersonation',
        canonical: 'google_impersonation',
        body: () => ({
          name: uniqueName('vertex'),
          model_provider: 'vertex',
          credentials: { target_service_account: `gateway-${hex(3)}@vault-test-project.iam.gserviceaccount.com` },
        }),
      },
    ];

    test.each(aliases)('the alias $alias is accepted and answered as $canonical', async ({ alias, canonical, body }) => {
      const org = anOrganization(prefix);
      const { connection } = await created(org.admin, { ...body(), auth_type: alias });

      expect(connection.auth_type).toBe(canonical);
      expect(okBody(await org.admin.get<ConnectionJson[]>('/connections')).map((listed) => listed.auth_type)).toEqual([canonical]);
    });
  });

  describe('aws_role external ids and GET /connections/{id}/aws-trust-info', () => {
    const awsRoleBody = (credentials: Record<string, unknown>) => ({
      name: uniqueName('bedrock'),
      model_provider: 'bedrock',
      auth_type: 'aws_role',
      credentials,
    });

    test('without external_id, aws-trust-info answers a generated external_id of 32 base64url characters', async () => {
      const org = anOrganization(prefix);
      const { connection } = await created(org.admin, awsRoleBody({ iam_role_arn: ROLE_ARN }));

      const info = okBody(await org.admin.get<{ external_id: string | null }>(`/connections/${connection.id}/aws-trust-info`));

      expect(keysOf(info)).toEqual(['external_id', 'principal_arn']);
      expect(info.external_id).toMatch(GENERATED_EXTERNAL_ID);
    });

    test('the generated external_id is the one sealed with the role', async () => {
      const org = anOrganization(prefix);
      const { connection } = await created(org.admin, awsRoleBody({ iam_role_arn: ROLE_ARN }));
      const info = okBody(await org.admin.get<{ external_id: string }>(`/connections/${connection.id}/aws-trust-info`));

      expect(await openSecret(vault, org.id, connection.id)).toEqual({
        authType: 'AWS_ROLE',
        secretVersion: 1,
        payload: { iamRoleArn: ROLE_ARN, externalId: info.external_id },
      });
    });

    test('two connections get different generated external ids', async () => {
      const org = anOrganization(prefix);
      const ids = [];
      for (let index = 0; index < 2; index += 1) {
        const { connection } = await created(org.admin, awsRoleBody({ iam_role_arn: ROLE_ARN }));
        ids.push(okBody(await org.admin.get<{ external_id: string }>(`/connections/${connection.id}/aws-trust-info`)).external_id);
      }

      expect(new Set(ids).size).toBe(2);
    });

    test('the generated external_id stays the same after a rotation that omits it', async () => {
      const org = anOrganization(prefix);
      const { connection } = await created(org.admin, awsRoleBody({ iam_role_arn: ROLE_ARN }));
      const before = okBody(await org.admin.get<{ external_id: string }>(`/connections/${connection.id}/aws-trust-info`));
      const newArn = 'arn:aws:iam::210987654321:role/gateway-bedrock-2';

      const rotated = okBody(
        await org.admin.put<ConnectionJson>(`/connections/${connection.id}`, { credentials: { iam_role_arn: newArn } }),
      );
      const after = okBody(await org.admin.get<{ external_id: string }>(`/connections/${connection.id}/aws-trust-info`));

      expect(rotated.secret_version).toBe(2);
      expect(after.external_id).toBe(before.external_id);
      expect(await openSecret(vault, org.id, connection.id)).toMatchObject({
        secretVersion: 2,
        payload: { iamRoleArn: newArn, externalId: before.external_id },
      });
    });

    test('with an admin-supplied external_id, aws-trust-info answers external_id null', async () => {
      const org = anOrganization(prefix);
      const { connection } = await created(org.admin, awsRoleBody({ iam_role_arn: ROLE_ARN, external_id: `customer-${hex(8)}` }));

      expect(okBody(await org.admin.get(`/connections/${connection.id}/aws-trust-info`))).toEqual({
        external_id: null,
        principal_arn: null,
      });
    });

    test('an admin-supplied external_id appears in no response: create, get, list, trust info, rotation', async () => {
      const org = anOrganization(prefix);
      const supplied = `customer-${hex(12)}`;
      const rotatedTo = `customer-${hex(12)}`;
      const create = await org.admin.post<ConnectionJson>('/connections', awsRoleBody({ iam_role_arn: ROLE_ARN, external_id: supplied }));
      const id = okBody(create).id;
      const responses = [
        create,
        await org.admin.get(`/connections/${id}`),
        await org.viewer.get(`/connections/${id}`),
        await org.admin.get('/connections'),
        await org.admin.get(`/connections/${id}/aws-trust-info`),
        await org.admin.put(`/connections/${id}`, { credentials: { iam_role_arn: ROLE_ARN, external_id: rotatedTo } }),
        await org.admin.get(`/connections/${id}/aws-trust-info`),
      ];

      expect(responses.map((response) => response.status)).toEqual(responses.map(() => 200));
      for (const response of responses) {
        expect(answerText(response)).not.toContain(supplied);
        expect(answerText(response)).not.toContain(rotatedTo);
      }
      expect(await openSecret(vault, org.id, id)).toMatchObject({ payload: { externalId: rotatedTo } });
    });

    test('aws-trust-info of a connection that is not aws_role is 400', async () => {
      const org = anOrganization(prefix);
      const { connection } = await created(org.admin, anOpenAiBody());

      expectRestError(await org.admin.get(`/connections/${connection.id}/aws-trust-info`), { status: 400, type: 'invalid_request_error' });
    });

    test('aws-trust-info answers the configured principal_arn', async () => {
      const org = anOrganization(prefix, configuredVault);
      const { connection } = await created(org.admin, awsRoleBody({ iam_role_arn: ROLE_ARN }));

      expect(okBody(await org.admin.get(`/connections/${connection.id}/aws-trust-info`))).toEqual({
        external_id: expect.stringMatching(GENERATED_EXTERNAL_ID),
        principal_arn: PRINCIPAL_ARN,
      });
    });

    test('a viewer may read aws-trust-info', async () => {
      const org = anOrganization(prefix);
      const { connection } = await created(org.admin, awsRoleBody({ iam_role_arn: ROLE_ARN }));

      expect(okBody(await org.viewer.get(`/connections/${connection.id}/aws-trust-info`))).toEqual({
        external_id: expect.stringMatching(GENERATED_EXTERNAL_ID),
        principal_arn: null,
      });
    });
  });

  describe('GET /connections/aws-role-config', () => {
    test('answers {configured: false, principal_arn: null} without AWS_PRINCIPAL_ARN', async () => {
      expect(okBody(await anOrganization(prefix).admin.get('/connections/aws-role-config'))).toEqual({
        configured: false,
        principal_arn: null,
      });
    });

    test('answers {configured: true, principal_arn} with AWS_PRINCIPAL_ARN configured', async () => {
      expect(okBody(await anOrganization(prefix, configuredVault).viewer.get('/connections/aws-role-config'))).toEqual({
        configured: true,
        principal_arn: PRINCIPAL_ARN,
      });
    });
  });

  describe('GET /connections', () => {
    test('answers a JSON array of every connection of the organization, oldest first', async () => {
      const org = anOrganization(prefix);
      const ids: string[] = [];
      for (let index = 0; index < 4; index += 1) ids.push((await created(org.admin, anOpenAiBody())).connection.id);
      ids.push((await created(org.admin, { name: uniqueName('vertex'), model_provider: 'vertex' })).connection.id);

      const list = okBody(await org.admin.get<ConnectionJson[]>('/connections'));

      expect(Array.isArray(list)).toBe(true);
      expect(list.map((connection) => connection.id)).toEqual(ids);
    });

    test('answers each connection with exactly the fields of a Connection, as GET of it does', async () => {
      const org = anOrganization(prefix);
      const { connection } = await created(org.admin, anOpenAiBody({ settings: { organization: 'org-vault' } }));

      const list = okBody(await org.admin.get<ConnectionJson[]>('/connections'));

      expect(list).toEqual([(await read(org.admin, connection.id)).connection]);
      expect(keysOf(list[0])).toEqual([...CONNECTION_FIELDS].sort());
    });

    test('answers [] for an organization without connections', async () => {
      expect(okBody(await anOrganization(prefix).admin.get('/connections'))).toEqual([]);
    });

    test("leaves out another organization's connections", async () => {
      const org = anOrganization(prefix);
      const { connection } = await created(org.admin, anOpenAiBody());
      await created(anOrganization(prefix).admin, anOpenAiBody());

      expect(okBody(await org.viewer.get<ConnectionJson[]>('/connections')).map((listed) => listed.id)).toEqual([connection.id]);
    });
  });

  describe('GET /connections/{id}', () => {
    test('answers the connection as POST answered it', async () => {
      const org = anOrganization(prefix);
      const { connection } = await created(org.admin, anOpenAiBody());

      expect((await read(org.viewer, connection.id)).connection).toEqual(connection);
    });

    test('accepts the id in upper case', async () => {
      const org = anOrganization(prefix);
      const { connection } = await created(org.admin, anOpenAiBody());

      expect((await read(org.admin, connection.id.toUpperCase())).connection.id).toBe(connection.id);
    });
  });

  describe('PUT /connections/{id}', () => {
    test('changes the name and leaves every omitted field as it was', async () => {
      const org = anOrganization(prefix);
      const { connection } = await created(org.admin, anOpenAiBody({ settings: { organization: 'org-vault' } }));

      const updated = okBody(await org.admin.put<ConnectionJson>(`/connections/${connection.id}`, { name: 'renamed' }));

      expect(updated).toEqual({ ...connection, name: 'renamed', updated_at: expect.any(String), last_modified_at: expect.any(String) });
      expect(await openSecret(vault, org.id, connection.id)).toMatchObject({ secretVersion: 1 });
    });

    test('merges settings over the stored ones', async () => {
      const org = anOrganization(prefix);
      const { connection } = await created(org.admin, anOpenAiBody({ settings: { organization: 'org-vault', project: 'proj-a' } }));

      const updated = okBody(
        await org.admin.put<ConnectionJson>(`/connections/${connection.id}`, { settings: { project: 'proj-b', timeout_ms: 5000 } }),
      );

      expect(updated.settings).toEqual({ organization: 'org-vault', project: 'proj-b', timeout_ms: 5000 });
      expect((await read(org.admin, connection.id)).connection.settings).toEqual(updated.settings);
    });

    test('rotates on api_key: secret_version + 1, the new key_last4, a new secret_rotated_at, the new key sealed', async () => {
      const org = anOrganization(prefix);
      const { connection } = await created(org.admin, anOpenAiBody());
      const newKey = anApiKey();

      const rotated = okBody(await org.admin.put<ConnectionJson>(`/connections/${connection.id}`, { api_key: newKey }));

      expect(rotated).toMatchObject({ secret_version: 2, key_last4: newKey.slice(-4), auth_type: 'api_key' });
      expect(Date.parse(rotated.secret_rotated_at)).toBeGreaterThan(Date.parse(connection.secret_rotated_at));
      expect(await openSecret(vault, org.id, connection.id)).toEqual({
        authType: 'API_KEY',
        secretVersion: 2,
        payload: { apiKey: newKey },
      });
    });

    test('a rotation answers neither the old nor the new key', async () => {
      const org = anOrganization(prefix);
      const body = anOpenAiBody();
      const { connection } = await created(org.admin, body);
      const newKey = anApiKey();

      const response = await org.admin.put(`/connections/${connection.id}`, { api_key: newKey });

      expect(response.status).toBe(200);
      expect(answerText(response)).not.toContain(newKey.slice(0, -4));
      expect(answerText(response)).not.toContain((body.api_key as string).slice(0, -4));
    });

    test('without api_key or credentials keeps the secret: same secret_version, key_last4 and secret_rotated_at', async () => {
      const org = anOrganization(prefix);
      const { connection } = await created(org.admin, anOpenAiBody());

      const updated = okBody(
        await org.admin.put<ConnectionJson>(`/connections/${connection.id}`, { settings: { organization: 'org-x' }, change_note: 'x' }),
      );

      expect(updated).toMatchObject({
        secret_version: 1,
        key_last4: connection.key_last4,
        secret_rotated_at: connection.secret_rotated_at,
      });
    });

    test('rotates an aws_keys connection on credentials', async () => {
      const org = anOrganization(prefix);
      const keys = () => ({ access_key_id: `AKIA${hex(8).toUpperCase()}`, secret_access_key: `wJalr${hex(16)}` });
      const { connection } = await created(org.admin, {
        name: uniqueName('bedrock'),
        model_provider: 'bedrock',
        auth_type: 'aws_keys',
        credentials: keys(),
      });
      const next = keys();

      const rotated = okBody(await org.admin.put<ConnectionJson>(`/connections/${connection.id}`, { credentials: next }));

      expect(rotated).toMatchObject({ secret_version: 2, auth_type: 'aws_keys' });
      expect(await openSecret(vault, org.id, connection.id)).toMatchObject({
        payload: { accessKeyId: next.access_key_id, secretAccessKey: next.secret_access_key },
      });
    });

    test('changes auth_type when the new secret comes with it', async () => {
      const org = anOrganization(prefix);
      const { connection } = await created(org.admin, {
        name: uniqueName('bedrock'),
        model_provider: 'bedrock',
        auth_type: 'aws_role',
        credentials: { iam_role_arn: ROLE_ARN },
      });
      const apiKey = `ABSK${hex(24)}`;

      const updated = okBody(
        await org.admin.put<ConnectionJson>(`/connections/${connection.id}`, { auth_type: 'bedrock_api_key', api_key: apiKey }),
      );

      expect(updated).toMatchObject({ auth_type: 'bedrock_api_key', key_last4: apiKey.slice(-4), secret_version: 2 });
    });

    test('changing auth_type without the new secret is 400 on auth_type and changes nothing', async () => {
      const org = anOrganization(prefix);
      const { connection, etag } = await created(org.admin, {
        name: uniqueName('bedrock'),
        model_provider: 'bedrock',
        auth_type: 'aws_role',
        credentials: { iam_role_arn: ROLE_ARN },
      });

      expectRestError(await org.admin.put(`/connections/${connection.id}`, { auth_type: 'aws_keys' }), {
        status: 400,
        type: 'invalid_request_error',
        param: 'auth_type',
      });
      expect(await read(org.admin, connection.id)).toEqual({ connection, etag });
    });

    test('base_url null resets it to the model provider default', async () => {
      const org = anOrganization(prefix);
      const { connection } = await created(org.admin, anOpenAiBody({ base_url: 'https://openai-proxy.example.com/v1' }));

      const updated = okBody(await org.admin.put<ConnectionJson>(`/connections/${connection.id}`, { base_url: null }));

      expect(updated.base_url).toBe('https://api.openai.com/v1');
    });

    test('stores change_note trimmed as last_change_note', async () => {
      const org = anOrganization(prefix);
      const { connection } = await created(org.admin, anOpenAiBody());

      const updated = okBody(
        await org.admin.put<ConnectionJson>(`/connections/${connection.id}`, {
          api_key: anApiKey(),
          change_note: '\t rotated after the Q3 audit  ',
        }),
      );

      expect(updated.last_change_note).toBe('rotated after the Q3 audit');
      expect((await read(org.viewer, connection.id)).connection.last_change_note).toBe('rotated after the Q3 audit');
    });

    test('a change_note of exactly 500 characters is kept', async () => {
      const org = anOrganization(prefix);
      const { connection } = await created(org.admin, anOpenAiBody());

      const updated = okBody(await org.admin.put<ConnectionJson>(`/connections/${connection.id}`, { change_note: 'n'.repeat(500) }));

      expect(updated.last_change_note).toBe('n'.repeat(500));
    });

    test('a change_note over 500 characters is 400 on change_note and changes nothing', async () => {
      const org = anOrganization(prefix);
      const { connection, etag } = await created(org.admin, anOpenAiBody());

      expectRestError(await org.admin.put(`/connections/${connection.id}`, { name: 'renamed', change_note: 'n'.repeat(501) }), {
        status: 400,
        type: 'invalid_request_error',
        param: 'change_note',
      });
      expect(await read(org.admin, connection.id)).toEqual({ connection, etag });
    });

    test('omitting change_note on the next PUT clears the previous note', async () => {
      const org = anOrganization(prefix);
      const { connection } = await created(org.admin, anOpenAiBody({ change_note: 'created for prod' }));
      okBody(await org.admin.put(`/connections/${connection.id}`, { name: uniqueName('noted'), change_note: 'renamed for prod' }));

      const updated = okBody(await org.admin.put<ConnectionJson>(`/connections/${connection.id}`, { name: uniqueName('unnoted') }));

      expect(updated.last_change_note).toBeNull();
      expect((await read(org.admin, connection.id)).connection.last_change_note).toBeNull();
    });

    test('records who changed it: last_modified_by_user_id and last_modified_at move, created_by_user_id stays', async () => {
      const org = anOrganization(prefix);
      const { connection } = await created(org.admin, anOpenAiBody());

      const updated = okBody(await org.otherAdmin.put<ConnectionJson>(`/connections/${connection.id}`, { name: uniqueName('renamed') }));

      expect(updated).toMatchObject({
        created_by_user_id: org.adminUserId,
        last_modified_by_user_id: org.otherAdminUserId,
        created_at: connection.created_at,
      });
      expect(Date.parse(updated.last_modified_at)).toBeGreaterThan(Date.parse(connection.last_modified_at));
    });
  });

  describe('DELETE /connections/{id}', () => {
    test('answers {"deleted": true}, after which GET of the connection is 404', async () => {
      const org = anOrganization(prefix);
      const { connection } = await created(org.admin, anOpenAiBody());

      const response = await org.admin.delete(`/connections/${connection.id}`);

      expect({ status: response.status, body: response.body }).toEqual({ status: 200, body: { deleted: true } });
      expectRestError(await org.admin.get(`/connections/${connection.id}`), { status: 404, type: 'not_found_error' });
      expect(await countConnections(org.id)).toBe(0);
    });

    test('a second delete of the same connection is 404', async () => {
      const org = anOrganization(prefix);
      const { connection } = await created(org.admin, anOpenAiBody());
      okBody(await org.admin.delete(`/connections/${connection.id}`));

      expectRestError(await org.admin.delete(`/connections/${connection.id}`), { status: 404, type: 'not_found_error' });
    });

    test('a connection providers use is 409 conflict_error naming the providers, and stays', async () => {
      const org = anOrganization(prefix);
      const { connection } = await created(org.admin, anOpenAiBody());
      const names = [uniqueName('route-eu'), uniqueName('route-us')];
      for (const name of names) {
        const provider = okBody(
          await org.admin.post<ProviderJson>('/providers', { name, model_provider: 'openai', connection_id: connection.id }),
        );
        expect(keysOf(provider)).toEqual([...PROVIDER_FIELDS].sort());
      }

      const error = expectRestError(await org.admin.delete(`/connections/${connection.id}`), { status: 409, type: 'conflict_error' });

      for (const name of names) expect(error.message).toContain(name);
      expect((await read(org.admin, connection.id)).connection).toEqual(connection);
    });
  });

  describe('ETag and If-Match', () => {
    test('the ETag changes on every write and GET answers the latest', async () => {
      const org = anOrganization(prefix);
      const { connection, etag: createdTag } = await created(org.admin, anOpenAiBody());
      const renamed = await org.admin.put(`/connections/${connection.id}`, { name: uniqueName('renamed') });
      const resettled = await org.admin.put(`/connections/${connection.id}`, { settings: { project: 'p' } });
      const rotated = await org.admin.put(`/connections/${connection.id}`, { api_key: anApiKey() });

      const tags = [createdTag, ...[renamed, resettled, rotated].map((response) => response.headers.get('etag'))];

      expect(new Set(tags).size).toBe(4);
      expect((await read(org.admin, connection.id)).etag).toBe(tags[3]);
    });

    test('PUT with the current ETag in If-Match succeeds', async () => {
      const org = anOrganization(prefix);
      const { connection, etag } = await created(org.admin, anOpenAiBody());

      const response = await org.admin.put<ConnectionJson>(
        `/connections/${connection.id}`,
        { name: 'renamed' },
        { headers: { 'if-match': etag } },
      );

      expect(okBody(response).name).toBe('renamed');
      expect(response.headers.get('etag')).not.toBe(etag);
    });

    test('PUT with a stale ETag is 412 conflict_error and changes nothing', async () => {
      const org = anOrganization(prefix);
      const { connection, etag: stale } = await created(org.admin, anOpenAiBody());
      okBody(await org.admin.put(`/connections/${connection.id}`, { name: uniqueName('first') }));
      const current = await read(org.admin, connection.id);
      const newKey = anApiKey();

      const response = await org.admin.put(
        `/connections/${connection.id}`,
        { name: 'second', api_key: newKey },
        { headers: { 'if-match': stale } },
      );

      expectRestError(response, { status: 412, type: 'conflict_error', notEchoing: [newKey.slice(0, -4)] });
      expect(await read(org.admin, connection.id)).toEqual(current);
      expect(await openSecret(vault, org.id, connection.id)).toMatchObject({ secretVersion: 1 });
    });

    test('PUT with If-Match: * succeeds whatever the revision', async () => {
      const org = anOrganization(prefix);
      const { connection } = await created(org.admin, anOpenAiBody());
      okBody(await org.admin.put(`/connections/${connection.id}`, { name: uniqueName('first') }));

      const response = await org.admin.put<ConnectionJson>(
        `/connections/${connection.id}`,
        { name: 'starred' },
        { headers: { 'if-match': '*' } },
      );

      expect(okBody(response).name).toBe('starred');
    });
  });

  describe('errors', () => {
    const secret = () => `sk-CANARY-${hex(16)}`;

    test('a malformed JSON body is 400 invalid_request_error and does not repeat the text', async () => {
      const org = anOrganization(prefix);
      const key = secret();

      const response = await org.admin.request('POST', '/connections', {
        rawBody: `{"name": "x", "model_provider": "openai", "api_key": "${key}`,
      });

      expectRestError(response, { status: 400, type: 'invalid_request_error', notEchoing: [key] });
      expect(await countConnections(org.id)).toBe(0);
    });

    test('a body that is not application/json is 415', async () => {
      const org = anOrganization(prefix);
      const key = secret();

      const response = await org.admin.request('POST', '/connections', {
        rawBody: JSON.stringify(anOpenAiBody({ api_key: key })),
        contentType: 'text/plain',
      });

      expectRestError(response, { status: 415, type: 'invalid_request_error', notEchoing: [key] });
      expect(await countConnections(org.id)).toBe(0);
    });

    test('a body over 256 KiB is 413', async () => {
      const org = anOrganization(prefix);
      const key = secret();

      const response = await org.admin.post('/connections', anOpenAiBody({ api_key: key, settings: { notes: 'x'.repeat(300 * 1024) } }));

      expectRestError(response, { status: 413, type: 'invalid_request_error', notEchoing: [key] });
      expect(await countConnections(org.id)).toBe(0);
    });

    test.each([
      ['GET', '/connections/not-a-uuid'],
      ['PUT', '/connections/not-a-uuid'],
      ['DELETE', '/connections/not-a-uuid'],
      ['GET', '/connections/not-a-uuid/aws-trust-info'],
      ['GET', '/connections/123'],
    ])('%s %s (an id that is not a UUID) is 404 on param id', async (method, path) => {
      const response = await anOrganization(prefix).admin.request(method, path, method === 'PUT' ? { body: { name: 'x' } } : {});

      expectRestError(response, { status: 404, type: 'not_found_error', param: 'id' });
    });

    test('an unknown top-level field on POST is 400 naming it', async () => {
      const org = anOrganization(prefix);
      const key = secret();

      const response = await org.admin.post('/connections', anOpenAiBody({ api_secret: key }));

      expectRestError(response, {
        status: 400,
        type: 'invalid_request_error',
        param: 'api_secret',
        message: 'api_secret',
        notEchoing: [key],
      });
      expect(await countConnections(org.id)).toBe(0);
    });

    test('an unknown top-level field on PUT is 400 naming it and changes nothing', async () => {
      const org = anOrganization(prefix);
      const { connection, etag } = await created(org.admin, anOpenAiBody());

      const response = await org.admin.put(`/connections/${connection.id}`, { name: 'renamed', model_provider: 'anthropic' });

      expectRestError(response, { status: 400, type: 'invalid_request_error', param: 'model_provider', message: 'model_provider' });
      expect(await read(org.admin, connection.id)).toEqual({ connection, etag });
    });

    test('an unknown key inside credentials for aws_role is 400 on credentials.<key>', async () => {
      const org = anOrganization(prefix);
      const key = secret();

      const response = await org.admin.post('/connections', {
        name: uniqueName('bedrock'),
        model_provider: 'bedrock',
        auth_type: 'aws_role',
        credentials: { iam_role_arn: ROLE_ARN, secret_access_key: key },
      });

      expectRestError(response, {
        status: 400,
        type: 'invalid_request_error',
        param: 'credentials.secret_access_key',
        notEchoing: [key],
      });
      expect(await countConnections(org.id)).toBe(0);
    });

    test.each(['settings', 'credentials'])('%s: null on PUT is 400 on that field and changes nothing', async (field) => {
      const org = anOrganization(prefix);
      const { connection, etag } = await created(org.admin, {
        name: uniqueName('bedrock'),
        model_provider: 'bedrock',
        auth_type: 'aws_keys',
        credentials: { access_key_id: `AKIA${hex(8).toUpperCase()}`, secret_access_key: `wJalr${hex(16)}` },
      });

      const response = await org.admin.put(`/connections/${connection.id}`, { [field]: null });

      expectRestError(response, { status: 400, type: 'invalid_request_error', param: field });
      expect(await read(org.admin, connection.id)).toEqual({ connection, etag });
    });

    test('a malformed role ARN is 400 on credentials.iam_role_arn', async () => {
      const org = anOrganization(prefix);
      const externalId = `customer-${hex(12)}`;

      const response = await org.admin.post('/connections', {
        name: uniqueName('bedrock'),
        model_provider: 'bedrock',
        auth_type: 'aws_role',
        credentials: { iam_role_arn: 'arn:aws:iam::123:user/not-a-role', external_id: externalId },
      });

      expectRestError(response, {
        status: 400,
        type: 'invalid_request_error',
        param: 'credentials.iam_role_arn',
        notEchoing: [externalId],
      });
      expect(await countConnections(org.id)).toBe(0);
    });

    test('a key-based connection without api_key is 400 on api_key', async () => {
      const org = anOrganization(prefix);

      const response = await org.admin.post('/connections', { name: uniqueName('openai'), model_provider: 'openai' });

      expectRestError(response, { status: 400, type: 'invalid_request_error', param: 'api_key' });
      expect(await countConnections(org.id)).toBe(0);
    });

    test('an api_key shorter than 8 characters is 400 on api_key', async () => {
      const response = await anOrganization(prefix).admin.post('/connections', anOpenAiBody({ api_key: 'sk-1234' }));

      expectRestError(response, { status: 400, type: 'invalid_request_error', param: 'api_key', notEchoing: ['sk-1234'] });
    });

    test('a body without name is 400 on name', async () => {
      const key = secret();
      const response = await anOrganization(prefix).admin.post('/connections', { model_provider: 'openai', api_key: key });

      expectRestError(response, { status: 400, type: 'invalid_request_error', param: 'name', notEchoing: [key] });
    });

    test('an unknown model_provider is 400 on model_provider', async () => {
      const response = await anOrganization(prefix).admin.post('/connections', anOpenAiBody({ model_provider: 'openai-ish' }));

      expectRestError(response, { status: 400, type: 'invalid_request_error', param: 'model_provider' });
    });

    test('an auth_type the model provider does not take is 400 and stores nothing', async () => {
      const org = anOrganization(prefix);

      const response = await org.admin.post('/connections', anOpenAiBody({ auth_type: 'bedrock_api_key' }));

      expectRestError(response, { status: 400, type: 'invalid_request_error' });
      expect(await countConnections(org.id)).toBe(0);
    });

    test('a name the organization already uses is 409 conflict_error and stores nothing', async () => {
      const org = anOrganization(prefix);
      await created(org.admin, anOpenAiBody({ name: 'OpenAI Production' }));
      const key = secret();

      const response = await org.admin.post('/connections', anOpenAiBody({ name: 'OpenAI Production', api_key: key }));

      expectRestError(response, { status: 409, type: 'conflict_error', notEchoing: [key] });
      expect(await countConnections(org.id)).toBe(1);
    });

    test('renaming onto a name the organization already uses is 409 conflict_error', async () => {
      const org = anOrganization(prefix);
      const taken = (await created(org.admin, anOpenAiBody())).connection.name;
      const { connection } = await created(org.admin, anOpenAiBody());

      expectRestError(await org.admin.put(`/connections/${connection.id}`, { name: taken }), { status: 409, type: 'conflict_error' });
    });

    test('the same name in another organization is accepted', async () => {
      await created(anOrganization(prefix).admin, anOpenAiBody({ name: 'OpenAI Production' }));

      const response = await anOrganization(prefix).admin.post('/connections', anOpenAiBody({ name: 'OpenAI Production' }));

      expect(response.status).toBe(200);
    });

    const routes: [string, string, unknown][] = [
      ['GET', '/connections', undefined],
      ['POST', '/connections', 'body'],
      ['GET', '/connections/{id}', undefined],
      ['PUT', '/connections/{id}', 'body'],
      ['DELETE', '/connections/{id}', undefined],
      ['GET', '/connections/{id}/aws-trust-info', undefined],
      ['GET', '/connections/aws-role-config', undefined],
    ];

    test.each(routes)('%s %s without a token is 401 authentication_error', async (method, path, withBody) => {
      const org = anOrganization(prefix);
      const { connection } = await created(org.admin, anOpenAiBody());
      const key = secret();

      const response = await org.admin.request(method, path.replace('{id}', connection.id), {
        token: null,
        ...(withBody ? { body: { ...anOpenAiBody({ api_key: key }) } } : {}),
      });

      expectRestError(response, { status: 401, type: 'authentication_error', notEchoing: [key] });
      expect(await countConnections(org.id)).toBe(1);
    });

    test('a token signed with another secret is 401 authentication_error', async () => {
      const org = anOrganization(prefix);

      expectRestError(await org.admin.get('/connections', { token: wronglySignedToken({ orgId: org.id }) }), {
        status: 401,
        type: 'authentication_error',
      });
    });

    test.each([
      ['POST', '/connections'],
      ['PUT', '/connections/{id}'],
      ['DELETE', '/connections/{id}'],
    ])('%s %s by a viewer is 403 permission_error and changes nothing', async (method, path) => {
      const org = anOrganization(prefix);
      const { connection, etag } = await created(org.admin, anOpenAiBody());
      const key = secret();

      const body = method === 'POST' ? anOpenAiBody({ api_key: key }) : { name: uniqueName('viewer'), api_key: key };
      const response = await org.viewer.request(method, path.replace('{id}', connection.id), method === 'DELETE' ? {} : { body });

      expectRestError(response, { status: 403, type: 'permission_error', notEchoing: [key] });
      expect(await countConnections(org.id)).toBe(1);
      expect(await read(org.admin, connection.id)).toEqual({ connection, etag });
    });

    test.each([
      ['GET', '/connections/{id}'],
      ['PUT', '/connections/{id}'],
      ['DELETE', '/connections/{id}'],
      ['GET', '/connections/{id}/aws-trust-info'],
    ])("%s %s with another organization's id is 404 not_found_error", async (method, path) => {
      const owner = anOrganization(prefix);
      const { connection, etag } = await created(owner.admin, {
        name: uniqueName('bedrock'),
        model_provider: 'bedrock',
        auth_type: 'aws_role',
        credentials: { iam_role_arn: ROLE_ARN },
      });

      const response = await anOrganization(prefix).admin.request(method, path.replace('{id}', connection.id), {
        ...(method === 'PUT' ? { body: { name: 'stolen' } } : {}),
      });

      expectRestError(response, { status: 404, type: 'not_found_error' });
      expect(await read(owner.admin, connection.id)).toEqual({ connection, etag });
    });

    test('an unknown route under the prefix is 404 in the envelope', async () => {
      const response = await anOrganization(prefix).admin.get('/connectionz');

      expectRestError(response, { status: 404, type: 'not_found_error' });
    });

    test.each([
      ['PATCH', '/connections/{id}'],
      ['DELETE', '/connections'],
      ['POST', '/connections/aws-role-config'],
      ['GET', '/connections/aws-role-validate'],
    ])('%s on %s (a known path, another method) is 405 in the envelope', async (method, path) => {
      const org = anOrganization(prefix);
      const { connection, etag } = await created(org.admin, anOpenAiBody());

      const response = await org.admin.request(method, path.replace('{id}', connection.id), {
        ...(method === 'GET' || method === 'DELETE' ? {} : { body: { name: 'x' } }),
      });

      expectRestError(response, { status: 405, type: 'invalid_request_error' });
      expect(await read(org.admin, connection.id)).toEqual({ connection, etag });
    });
  });
});

// The same odd input through the REST door, which shares the services with GraphQL: each is a 400
// invalid_request_error whose `param` names the snake_case field, or the 409 of a taken name,
// never repeating a secret. Settings keys that name a secret, base URLs the gateway must not send
// a credential to (allowed where BASE_URL_ALLOW_PRIVATE says so), names with invisible characters
// or differing from a taken one only in case, and keys outside printable ASCII.
import { anApiKey, hex, uniqueName } from '../support/factories';
import {
  aRestOrganization,
  type ConnectionJson,
  expectRestError,
  okBody,
  type ProviderJson,
  REST_PREFIXES,
  type RestClient,
} from '../support/rest-client';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { storedRow } from '../support/vault-client';

let database: TestDatabase;
let vault: TestApp;
/** The same database behind BASE_URL_ALLOW_PRIVATE=true. */
let permissive: TestApp;

beforeAll(async () => {
  database = await createTestDatabase('rest_input_hardening');
  vault = await startTestApp({ databaseUrl: database.url });
  permissive = await startTestApp({ databaseUrl: database.url, env: { BASE_URL_ALLOW_PRIVATE: 'true' } });
});

afterAll(async () => {
  await permissive?.stop();
  await vault?.stop();
  await database?.drop();
});

function anOpenAiBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: uniqueName('openai'), model_provider: 'openai', api_key: anApiKey(), ...overrides };
}

function secret(): string {
  return `canary-${hex(12)}`;
}

async function countConnections(orgId: string): Promise<number> {
  const [row] = await database.query<{ count: number }>('SELECT count(*)::int AS count FROM credentials WHERE organization_id = $1', [
    orgId,
  ]);
  return row.count;
}

async function aConnection(admin: RestClient, overrides: Record<string, unknown> = {}): Promise<ConnectionJson> {
  return okBody(await admin.post<ConnectionJson>('/connections', anOpenAiBody(overrides)));
}

describe.each(REST_PREFIXES)('under %s', (prefix) => {
  const anOrganization = (app: TestApp = vault) => aRestOrganization(app, prefix);

  describe('settings keys that name a secret', () => {
    test.each([
      'x-api-key',
      'aws_secret_access_key',
      'private_key_pem',
      'connection_string',
      'cookie',
      'sas_token',
      'api\u200bkey',
      '\u0430pi_key',
    ])('%s is 400 on settings.<key>, without the value, and stores nothing', async (key) => {
      const org = anOrganization();
      const value = secret();

      const response = await org.admin.post('/connections', anOpenAiBody({ settings: { region: 'eu-west-1', [key]: value } }));

      expectRestError(response, { status: 400, type: 'invalid_request_error', param: `settings.${key}`, notEchoing: [value] });
      expect(await countConnections(org.id)).toBe(0);
    });

    test('nested in headers it is 400 on its full path', async () => {
      const value = secret();
      const response = await anOrganization().admin.post(
        '/connections',
        anOpenAiBody({ model_provider: 'custom', base_url: 'https://llm.example.com/v1', settings: { headers: { 'X-Api-Key': value } } }),
      );

      expectRestError(response, { status: 400, type: 'invalid_request_error', param: 'settings.headers.X-Api-Key', notEchoing: [value] });
    });

    test('merged in by PUT it is 400 and changes nothing', async () => {
      const org = anOrganization();
      const connection = await aConnection(org.admin, { settings: { organization: 'org-vault' } });
      const before = await storedRow(database, connection.id);
      const value = secret();

      const response = await org.admin.put(`/connections/${connection.id}`, { settings: { 'X-Api-Key': value } });

      expectRestError(response, { status: 400, type: 'invalid_request_error', param: 'settings.X-Api-Key', notEchoing: [value] });
      expect(await storedRow(database, connection.id)).toEqual(before);
    });

    test('in a provider it is 400 on its full path', async () => {
      const org = anOrganization();
      const connection = await aConnection(org.admin);
      const value = secret();

      const response = await org.admin.post('/providers', {
        name: uniqueName('route'),
        model_provider: 'openai',
        connection_id: connection.id,
        settings: { headers: { 'X-Api-Key': value } },
      });

      expectRestError(response, {
        status: 400,
        type: 'invalid_request_error',
        param: 'settings.headers.X-Api-Key',
        notEchoing: [value],
      });
    });

    test('the reference settings keys are accepted', async () => {
      const connection = await aConnection(anOrganization().admin, {
        model_provider: 'azure_openai',
        base_url: 'https://vault-test.openai.azure.com/openai',
        settings: { api_version: '2024-10-21', deployment: 'gpt-4o', max_tokens: 4096 },
      });
      expect(connection.settings).toEqual({ api_version: '2024-10-21', deployment: 'gpt-4o', max_tokens: 4096 });
    });
  });

  describe('base_url', () => {
    test.each([
      ['plain http', 'http://api.openai.com/v1', /must use https: the gateway sends the credential to this address/],
      ['loopback', 'https://127.1/v1', /must point at a public host/],
      ['loopback as a number', 'https://2130706433/v1', /must point at a public host/],
      ['IPv6 loopback', 'https://[::1]/v1', /must point at a public host/],
      ['IPv4-mapped loopback', 'https://[::ffff:127.0.0.1]/v1', /must point at a public host/],
      ['cloud metadata', 'https://169.254.169.254/latest/meta-data/', /must point at a public host/],
      ['metadata.google.internal', 'https://metadata.google.internal/', /must point at a public host/],
      ['a name under .localhost', 'https://gateway.localhost/v1', /must point at a public host/],
      ['a key in the query', 'https://proxy.example.com/v1?key=canary-query-key', /must not carry a secret in its query/],
      ['a look-alike host', 'https://\u0430pi.openai.com/v1', /it can pass for another host/],
    ])('%s is 400 on base_url, saying why, and stores nothing', async (_label, baseUrl, message) => {
      const org = anOrganization();

      const response = await org.admin.post('/connections', anOpenAiBody({ base_url: baseUrl }));

      expectRestError(response, {
        status: 400,
        type: 'invalid_request_error',
        param: 'base_url',
        message,
        notEchoing: ['canary-query-key'],
      });
      expect(await countConnections(org.id)).toBe(0);
    });

    test('a PUT to a loopback address is 400 on base_url and changes nothing', async () => {
      const org = anOrganization();
      const connection = await aConnection(org.admin);
      const before = await storedRow(database, connection.id);

      const response = await org.admin.put(`/connections/${connection.id}`, { base_url: 'http://127.0.0.1:8080/v1' });

      expectRestError(response, { status: 400, type: 'invalid_request_error', param: 'base_url' });
      expect(await storedRow(database, connection.id)).toEqual(before);
    });

    test('with BASE_URL_ALLOW_PRIVATE=true, a loopback http base_url is accepted on create and PUT', async () => {
      const admin = anOrganization(permissive).admin;
      const connection = await aConnection(admin, { model_provider: 'custom', base_url: 'http://127.0.0.1:8080/v1' });
      expect(connection.base_url).toBe('http://127.0.0.1:8080/v1');

      const updated = okBody(await admin.put<ConnectionJson>(`/connections/${connection.id}`, { base_url: 'http://localhost:11434/v1' }));
      expect(updated.base_url).toBe('http://localhost:11434/v1');
    });

    test('with BASE_URL_ALLOW_PRIVATE=true, a key in the query is still 400', async () => {
      const response = await anOrganization(permissive).admin.post(
        '/connections',
        anOpenAiBody({ base_url: 'http://127.0.0.1:8080/v1?api_key=canary-query-key' }),
      );
      expectRestError(response, { status: 400, type: 'invalid_request_error', param: 'base_url', notEchoing: ['canary-query-key'] });
    });
  });

  describe('names', () => {
    test.each([
      ['a right-to-left override', 'prod\u202eopenai'],
      ['a zero-width space', 'prod\u200bopenai'],
      ['a leading byte-order mark', '\ufeffprod-openai'],
      ['a tag character', 'prod\u{e0041}openai'],
    ])('with %s is 400 on name and stores nothing', async (_label, name) => {
      const org = anOrganization();

      expectRestError(await org.admin.post('/connections', anOpenAiBody({ name })), {
        status: 400,
        type: 'invalid_request_error',
        param: 'name',
        message: /invisible formatting characters/,
      });
      expect(await countConnections(org.id)).toBe(0);
    });

    test('are stored in composed form (NFC)', async () => {
      const suffix = hex(4);
      expect((await aConnection(anOrganization().admin, { name: `Cafe\u0301-${suffix}` })).name).toBe(`Caf\u00e9-${suffix}`);
    });

    test('a name differing from a taken one only in case is 409 conflict_error, as a duplicate is, and stores nothing', async () => {
      const org = anOrganization();
      const name = uniqueName('OpenAI Production');
      await aConnection(org.admin, { name });
      const key = anApiKey();

      const exact = await org.admin.post('/connections', anOpenAiBody({ name }));
      const otherCase = await org.admin.post('/connections', anOpenAiBody({ name: name.toLowerCase(), api_key: key }));

      const duplicate = expectRestError(exact, { status: 409, type: 'conflict_error' });
      const caseDuplicate = expectRestError(otherCase, { status: 409, type: 'conflict_error', notEchoing: [key] });
      expect({ ...caseDuplicate, message: undefined }).toEqual({ ...duplicate, message: undefined });
      expect(await countConnections(org.id)).toBe(1);
    });

    test('renaming onto a taken name in another case is 409 conflict_error', async () => {
      const org = anOrganization();
      const taken = await aConnection(org.admin);
      const connection = await aConnection(org.admin);

      expectRestError(await org.admin.put(`/connections/${connection.id}`, { name: taken.name.toUpperCase() }), {
        status: 409,
        type: 'conflict_error',
      });
    });

    test('a provider name differing from a taken one only in case is 409 conflict_error', async () => {
      const org = anOrganization();
      const connection = await aConnection(org.admin);
      okBody(
        await org.admin.post<ProviderJson>('/providers', { name: 'OpenAI-EU', model_provider: 'openai', connection_id: connection.id }),
      );

      const response = await org.admin.post('/providers', { name: 'openai-eu', model_provider: 'openai', connection_id: connection.id });

      expectRestError(response, { status: 409, type: 'conflict_error' });
    });
  });

  describe('keys outside printable ASCII', () => {
    test('an api_key with a Cyrillic letter is 400 on api_key, without the key', async () => {
      const org = anOrganization();
      const key = `sk-pr\u043ej-${hex(8)}`;

      expectRestError(await org.admin.post('/connections', anOpenAiBody({ api_key: key })), {
        status: 400,
        type: 'invalid_request_error',
        param: 'api_key',
        message: /printable ASCII/,
        notEchoing: [key],
      });
      expect(await countConnections(org.id)).toBe(0);
    });

    test('an aws_keys secret_access_key with a zero-width space is 400 on credentials.secret_access_key, without it', async () => {
      const value = `wJalrXUtnFEMI/K7MDENG\u200b/bPxRfiCYEXAMPLEKEY`;
      const response = await anOrganization().admin.post('/connections', {
        name: uniqueName('bedrock'),
        model_provider: 'bedrock',
        auth_type: 'aws_keys',
        credentials: { access_key_id: 'AKIAIOSFODNN7EXAMPLE', secret_access_key: value },
      });

      expectRestError(response, {
        status: 400,
        type: 'invalid_request_error',
        param: 'credentials.secret_access_key',
        notEchoing: [value],
      });
    });
  });
});

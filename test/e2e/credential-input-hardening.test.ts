// Odd input through GraphQL, each refused as BAD_USER_INPUT naming the field and never repeating
// a secret: settings keys that name a secret in any spelling and at any depth; base URLs the
// gateway must not send a credential to (plain http, loopback, private, link-local and metadata
// targets in every spelling, a secret in the query, look-alike hosts), allowed only where
// BASE_URL_ALLOW_PRIVATE says so; names with invisible characters, stored in one Unicode
// spelling and unique regardless of case (for credentials and providers); API keys outside
// printable ASCII. Ordinary input, the catalog's settings included, is accepted.
import { aCredentialInput, apiKeyAuth, awsKeysAuth, type CreateCredentialInput, hex, uniqueName } from '../support/factories';
import { anAdmin, anOrganization } from '../support/organizations';
import { aProviderInput } from '../support/provider-client';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import {
  countCredentials,
  dataOf,
  expectBadUserInput,
  expectError,
  storedRow,
  type CredentialView,
  type VaultClient,
} from '../support/vault-client';
import type { GraphQLResponse } from '../support/test-app';

let database: TestDatabase;
/** The defaults: https to public hosts only. */
let vault: TestApp;
/** The same database behind BASE_URL_ALLOW_PRIVATE=true. */
let permissive: TestApp;

beforeAll(async () => {
  database = await createTestDatabase('input_hardening');
  vault = await startTestApp({ databaseUrl: database.url });
  permissive = await startTestApp({ databaseUrl: database.url, env: { BASE_URL_ALLOW_PRIVATE: 'true' } });
});

afterAll(async () => {
  await permissive?.stop();
  await vault?.stop();
  await database?.drop();
});

/** Asserts BAD_USER_INPUT on `field` with no row written and no `secret` in the answer. */
async function expectRefusedCreate(
  admin: VaultClient,
  input: CreateCredentialInput | Record<string, unknown>,
  field: string,
  secret?: string,
) {
  const rowsBefore = await countCredentials(database);
  const response = await admin.create(input);
  const error = expectBadUserInput(response, field);
  expect(response.body.data ?? null).toBeNull();
  expect(await countCredentials(database)).toBe(rowsBefore);
  if (secret !== undefined) expect(response.text).not.toContain(secret);
  return error;
}

function secretValue(): string {
  return `canary-${hex(12)}`;
}

describe('settings keys that name a secret', () => {
  test.each([
    ['x-api-key', 'x-api-key'],
    ['X-Api-Key', 'X-Api-Key'],
    ['secretKey', 'secretKey'],
    ['aws_secret_access_key', 'aws_secret_access_key'],
    ['private_key_pem', 'private_key_pem'],
    ['connection_string', 'connection_string'],
    ['cookie', 'cookie'],
    ['sas_token', 'sas_token'],
    ['Set-Cookie', 'Set-Cookie'],
    ['X-Amz-Security-Token', 'X-Amz-Security-Token'],
    ['Ocp-Apim-Subscription-Key', 'Ocp-Apim-Subscription-Key'],
    ['github_token', 'github_token'],
    ['passw0rd', 'passw0rd'],
    ['a zero-width space inside api_key', 'api\u200bkey'],
    ['a Cyrillic a in api_key', '\u0430pi_key'],
    ['a Cyrillic i in api_key', 'ap\u0456_key'],
    ['full-width api_key', '\uff41\uff50\uff49\uff3f\uff4b\uff45\uff59'],
  ])('%s is BAD_USER_INPUT on input.settings.<key>', async (_label, key) => {
    const secret = secretValue();
    await expectRefusedCreate(
      anAdmin(vault),
      { ...aCredentialInput(), settings: { region: 'eu-west-1', [key]: secret } },
      `input.settings.${key}`,
      secret,
    );
  });

  test('nested in headers, it is refused on its full path', async () => {
    const secret = secretValue();
    await expectRefusedCreate(
      anAdmin(vault),
      { ...aCredentialInput({ modelProvider: 'CUSTOM' }), settings: { headers: { 'X-Api-Key': secret } } },
      'input.settings.headers.X-Api-Key',
      secret,
    );
  });

  test('deep inside arrays and objects, it is refused on its full path', async () => {
    const secret = secretValue();
    await expectRefusedCreate(
      anAdmin(vault),
      { ...aCredentialInput(), settings: { upstreams: [{ name: 'a' }, { options: { retry: { aws_session_token: secret } } }] } },
      'input.settings.upstreams.1.options.retry.aws_session_token',
      secret,
    );
  });

  test('in an update, it is refused and changes nothing', async () => {
    const admin = anAdmin(vault);
    const created = await admin.created(aCredentialInput());
    const before = await storedRow(database, created.id);
    const secret = secretValue();

    const response = await admin.update(created.id, { settings: { headers: { cookie: secret } } });

    expectBadUserInput(response, 'input.settings.headers.cookie');
    expect(response.text).not.toContain(secret);
    expect(await storedRow(database, created.id)).toEqual(before);
  });

  test('in a provider, it is refused on its full path', async () => {
    const org = anOrganization(vault);
    const credential = await org.admin.created(aCredentialInput());
    const secret = secretValue();

    const response = await org.admin.providers.create(aProviderInput(credential.id, { settings: { headers: { 'X-Api-Key': secret } } }));

    expectBadUserInput(response, 'input.settings.headers.X-Api-Key');
    expect(response.text).not.toContain(secret);
  });

  test('the catalog and contract settings, and names that only resemble secret words, are accepted', async () => {
    const settings = {
      region: 'us-east-1',
      location: 'us-central1',
      'anthropic-version': '2023-06-01',
      anthropic_version: '2023-06-01',
      api_version: '2024-10-21',
      apiVersion: '2024-10-21',
      deployment: 'gpt-4o',
      deployment_name: 'gpt-4o',
      project_id: 'vault-test-project',
      model_api_family: 'responses',
      organization: 'org-vault',
      max_tokens: 4096,
      token_limit: 100000,
      secret_version: 2,
      api_key_header: 'x-api-key',
    };
    const created = await anAdmin(vault).created({ ...aCredentialInput(), settings });
    expect(created.settings).toEqual(settings);
  });
});

describe('baseUrl', () => {
  const PUBLIC_HOST =
    'baseUrl must point at a public host: the gateway sends the credential to this address, and loopback, private, link-local and cloud metadata addresses reach into the network the gateway runs in.';

  test('plain http is BAD_USER_INPUT on input.baseUrl, saying why', async () => {
    const error = await expectRefusedCreate(anAdmin(vault), aCredentialInput({ baseUrl: 'http://api.openai.com/v1' }), 'input.baseUrl');
    expect(error.message).toBe(
      'baseUrl must use https: the gateway sends the credential to this address, and plain http would expose it on the network.',
    );
  });

  test.each([
    'https://127.0.0.1/v1',
    'https://127.1/v1',
    'https://2130706433/v1',
    'https://0x7f.1/v1',
    'https://[::1]/v1',
    'https://[::ffff:127.0.0.1]/v1',
    'https://10.1.2.3/v1',
    'https://192.168.0.10/v1',
    'https://169.254.169.254/latest/meta-data/',
    'https://metadata.google.internal/computeMetadata/v1/',
    'https://localhost/v1',
    'https://api.localhost/v1',
  ])('%s is BAD_USER_INPUT on input.baseUrl, saying why', async (baseUrl) => {
    const error = await expectRefusedCreate(anAdmin(vault), aCredentialInput({ baseUrl }), 'input.baseUrl');
    expect(error.message).toBe(PUBLIC_HOST);
  });

  test.each(['api_key', 'key', 'token', 'access_token', 'sig'])(
    'a ?%s= query parameter is BAD_USER_INPUT, without the value',
    async (name) => {
      const secret = secretValue();
      const error = await expectRefusedCreate(
        anAdmin(vault),
        aCredentialInput({ baseUrl: `https://proxy.example.com/v1?${name}=${secret}` }),
        'input.baseUrl',
        secret,
      );
      expect(error.message).toMatch(/must not carry a secret in its query/);
    },
  );

  test.each([
    ['mixed Latin and Cyrillic', 'https://\u0430pi.openai.com/v1'],
    ['the same in punycode', 'https://xn--pi-6kc.openai.com/v1'],
    ['Cyrillic letters that only look Latin', 'https://\u0430\u0440\u0440\u04cf\u0435.\u0440\u0444/v1'],
  ])('a look-alike host (%s) is BAD_USER_INPUT on input.baseUrl', async (_label, baseUrl) => {
    const error = await expectRefusedCreate(anAdmin(vault), aCredentialInput({ baseUrl }), 'input.baseUrl');
    expect(error.message).toMatch(/it can pass for another host/);
  });

  test('an update to a loopback address is refused and changes nothing', async () => {
    const admin = anAdmin(vault);
    const created = await admin.created(aCredentialInput());
    const before = await storedRow(database, created.id);

    expectBadUserInput(await admin.update(created.id, { baseUrl: 'http://127.0.0.1:8080/v1' }), 'input.baseUrl');
    expect(await storedRow(database, created.id)).toEqual(before);
  });

  test('a public https URL with an ordinary query is accepted', async () => {
    const baseUrl = 'https://vault-test.openai.azure.com/openai?api-version=2024-10-21';
    expect((await anAdmin(vault).created(aCredentialInput({ modelProvider: 'AZURE_OPENAI', baseUrl }))).baseUrl).toBe(baseUrl);
  });

  describe('with BASE_URL_ALLOW_PRIVATE=true', () => {
    test.each([
      'http://127.0.0.1:8080/v1',
      'http://localhost:11434/v1',
      'https://[::1]:8443/v1',
      'http://10.0.0.5/v1',
      'http://vllm.internal/v1',
    ])('%s is accepted', async (baseUrl) => {
      expect((await anAdmin(permissive).created(aCredentialInput({ modelProvider: 'CUSTOM', baseUrl }))).baseUrl).toBe(baseUrl);
    });

    test('an update to a loopback address is accepted', async () => {
      const admin = anAdmin(permissive);
      const created = await admin.created(aCredentialInput());
      expect(dataOf(await admin.update(created.id, { baseUrl: 'http://127.0.0.1:9000/v1' })).updateCredential.baseUrl).toBe(
        'http://127.0.0.1:9000/v1',
      );
    });

    test('a secret in the query is still refused', async () => {
      await expectRefusedCreate(
        anAdmin(permissive),
        aCredentialInput({ baseUrl: 'http://127.0.0.1:8080/v1?api_key=sk-0123456789' }),
        'input.baseUrl',
      );
    });

    test('a look-alike host is still refused', async () => {
      await expectRefusedCreate(anAdmin(permissive), aCredentialInput({ baseUrl: 'http://\u0430pi.openai.com/v1' }), 'input.baseUrl');
    });
  });
});

describe('names', () => {
  test.each([
    ['a right-to-left override', 'prod\u202egpj.exe'],
    ['a left-to-right isolate', 'prod\u2066openai'],
    ['a zero-width space', 'prod\u200bopenai'],
    ['a zero-width joiner', 'prod\u200dopenai'],
    ['a leading byte-order mark', '\ufeffprod-openai'],
    ['a tag character', 'prod\u{e0041}openai'],
  ])('with %s is BAD_USER_INPUT on input.name', async (_label, name) => {
    const error = await expectRefusedCreate(anAdmin(vault), aCredentialInput({ name }), 'input.name');
    expect(error.message).toMatch(/invisible formatting characters/);
  });

  test('in an update, an invisible character is refused and changes nothing', async () => {
    const admin = anAdmin(vault);
    const created = await admin.created(aCredentialInput());
    const before = await storedRow(database, created.id);

    expectBadUserInput(await admin.update(created.id, { name: `${created.name}\u200b` }), 'input.name');
    expect(await storedRow(database, created.id)).toEqual(before);
  });

  test('a provider name with a bidirectional override is BAD_USER_INPUT on input.name', async () => {
    const org = anOrganization(vault);
    const credential = await org.admin.created(aCredentialInput());
    expectBadUserInput(await org.admin.providers.create(aProviderInput(credential.id, { name: 'route\u202eevil' })), 'input.name');
  });

  test('are stored in composed form (NFC)', async () => {
    const suffix = hex(4);
    const created = await anAdmin(vault).created(aCredentialInput({ name: `Cafe\u0301-${suffix}` }));

    expect(created.name).toBe(`Caf\u00e9-${suffix}`);
    const [row] = await database.query<{ name: string }>('SELECT name FROM credentials WHERE id = $1', [created.id]);
    expect(row.name).toBe(`Caf\u00e9-${suffix}`);
  });

  test('provider names are stored in composed form (NFC)', async () => {
    const org = anOrganization(vault);
    const credential = await org.admin.created(aCredentialInput());
    const provider = await org.admin.providers.created(aProviderInput(credential.id, { name: 'Zu\u0308rich' }));
    expect(provider.name).toBe('Z\u00fcrich');
  });

  describe('are unique in an organization regardless of case', () => {
    test('a name differing only in case is CONFLICT on input.name, as a duplicate is, and nothing is written', async () => {
      const admin = anAdmin(vault);
      const name = uniqueName('Prod');
      await admin.created(aCredentialInput({ name }));

      const exact = await admin.create(aCredentialInput({ name }));
      const otherCase = await admin.create(aCredentialInput({ name: name.toUpperCase() }));

      expectError(exact, { code: 'CONFLICT', field: 'input.name' });
      expectError(otherCase, { code: 'CONFLICT', field: 'input.name', message: 'already exists' });
      expect(Object.keys(otherCase.body.errors?.[0].extensions ?? {}).sort()).toEqual(
        Object.keys(exact.body.errors?.[0].extensions ?? {}).sort(),
      );
      expect(await countCredentials(database, 'organization_id = $1', [admin.orgId])).toBe(1);
    });

    test('a name in another Unicode spelling is the same name', async () => {
      const admin = anAdmin(vault);
      const suffix = hex(4);
      await admin.created(aCredentialInput({ name: `Caf\u00e9-${suffix}` }));

      expectError(await admin.create(aCredentialInput({ name: `CAFE\u0301-${suffix}` })), { code: 'CONFLICT', field: 'input.name' });
    });

    test('renaming onto another credential name in another case is CONFLICT and changes nothing', async () => {
      const admin = anAdmin(vault);
      const taken = await admin.created(aCredentialInput());
      const other: CredentialView = await admin.created(aCredentialInput());
      const before = await storedRow(database, other.id);

      expectError(await admin.update(other.id, { name: taken.name.toUpperCase() }), { code: 'CONFLICT', field: 'input.name' });
      expect(await storedRow(database, other.id)).toEqual(before);
    });

    test('a credential may change the case of its own name', async () => {
      const admin = anAdmin(vault);
      const created = await admin.created(aCredentialInput());
      expect(dataOf(await admin.update(created.id, { name: created.name.toUpperCase() })).updateCredential.name).toBe(
        created.name.toUpperCase(),
      );
    });

    test('the same name in another case may exist in another organization', async () => {
      const name = uniqueName('Shared');
      await anAdmin(vault).created(aCredentialInput({ name }));
      expect((await anAdmin(vault).created(aCredentialInput({ name: name.toLowerCase() }))).name).toBe(name.toLowerCase());
    });

    test('of two concurrent creates differing only in case, exactly one wins', async () => {
      const admin = anAdmin(vault);
      const name = uniqueName('Race');
      const responses: GraphQLResponse[] = await Promise.all([
        admin.create(aCredentialInput({ name })),
        admin.create(aCredentialInput({ name: name.toUpperCase() })),
        admin.create(aCredentialInput({ name: name.toLowerCase() })),
      ]);

      const won = responses.filter((response) => response.body.errors === undefined);
      expect(won).toHaveLength(1);
      for (const lost of responses.filter((response) => response.body.errors !== undefined)) {
        expectError(lost, { code: 'CONFLICT', field: 'input.name' });
      }
      expect(await countCredentials(database, 'organization_id = $1', [admin.orgId])).toBe(1);
    });

    test('a provider name differing only in case is CONFLICT on input.name and keeps the first', async () => {
      const org = anOrganization(vault);
      const credential = await org.admin.created(aCredentialInput());
      const first = await org.admin.providers.created(aProviderInput(credential.id, { name: 'Primary' }));

      expectError(await org.admin.providers.create(aProviderInput(credential.id, { name: 'PRIMARY' })), {
        code: 'CONFLICT',
        field: 'input.name',
      });
      const rows = await database.query<{ id: string }>('SELECT id FROM providers WHERE organization_id = $1', [org.id]);
      expect(rows.map((row) => row.id)).toEqual([first.id]);
    });
  });
});

describe('secrets outside printable ASCII', () => {
  test.each([
    ['a Cyrillic letter', `sk-pr\u043ej-${hex(8)}`],
    ['a zero-width space', `sk-proj-${hex(4)}\u200b${hex(4)}`],
    ['an en dash', `sk\u2013proj-${hex(8)}`],
  ])('an apiKey with %s is BAD_USER_INPUT on input.auth.apiKey.apiKey, without the key', async (_label, apiKey) => {
    const error = await expectRefusedCreate(
      anAdmin(vault),
      aCredentialInput({ auth: apiKeyAuth(apiKey) }),
      'input.auth.apiKey.apiKey',
      apiKey,
    );
    expect(error.message).toMatch(/printable ASCII/);
  });

  test('a rotation to such a key is refused and changes nothing', async () => {
    const admin = anAdmin(vault);
    const created = await admin.created(aCredentialInput());
    const before = await storedRow(database, created.id);
    const apiKey = `sk-\u0430${hex(8)}`;

    const response = await admin.update(created.id, { auth: apiKeyAuth(apiKey) });

    expectBadUserInput(response, 'input.auth.apiKey.apiKey');
    expect(response.text).not.toContain(apiKey);
    expect(await storedRow(database, created.id)).toEqual(before);
  });

  test('an AWS secretAccessKey with a look-alike letter is BAD_USER_INPUT on input.auth.awsKeys.secretAccessKey', async () => {
    const secretAccessKey = `wJalrXUtnFEMI/K7MDENG/bPxRfiCY\u0415XAMPLEKEY`;
    await expectRefusedCreate(
      anAdmin(vault),
      aCredentialInput({ modelProvider: 'BEDROCK', auth: awsKeysAuth({ secretAccessKey }) }),
      'input.auth.awsKeys.secretAccessKey',
      secretAccessKey,
    );
  });
});

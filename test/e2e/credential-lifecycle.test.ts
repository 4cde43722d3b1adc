// The credential lifecycle over real HTTP and PostgreSQL: create for every auth type each provider
// takes, read, update, rotate (with optimistic concurrency), delete, and name uniqueness. The
// sealed secret is checked with SecretStore, the one reader allowed to open it.
import {
  aCredentialInput,
  anApiKey,
  apiKeyAuth,
  type AuthType,
  awsKeysAuth,
  awsRoleAuth,
  bedrockApiKeyAuth,
  type CredentialAuthInput,
  expectedSecretPayload,
  googleAdcAuth,
  googleImpersonationAuth,
  googleServiceAccountAuth,
  hex,
  type ModelProvider,
  rsaPrivateKeyPem,
  uniqueName,
} from '../support/factories';
import { anAdmin } from '../support/organizations';
import { sleep } from '../support/sleep';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import {
  countCredentials,
  type CredentialView,
  dataOf,
  expectBadUserInput,
  expectError,
  openSecret,
  storedRow,
  UUID_PATTERN,
} from '../support/vault-client';

let database: TestDatabase;
let vault: TestApp;

beforeAll(async () => {
  database = await createTestDatabase('lifecycle');
  vault = await startTestApp({ databaseUrl: database.url });
});

afterAll(async () => {
  await vault?.stop();
  await database?.drop();
});

function apiKeyOf(auth: CredentialAuthInput): string | null {
  return auth.apiKey?.apiKey ?? auth.bedrockApiKey?.apiKey ?? null;
}

describe('createCredential', () => {
  interface CreateCase {
    modelProvider: ModelProvider;
    authType: AuthType;
    auth: () => CredentialAuthInput;
    baseUrl: string;
    storesKeyMaterial: boolean;
  }
  const cases: CreateCase[] = [
    {
      modelProvider: 'BEDROCK',
      authType: 'AWS_ROLE',
      auth: () => awsRoleAuth(),
      baseUrl: 'https://bedrock-runtime.us-east-1.amazonaws.com',
      storesKeyMaterial: true,
    },
    {
      modelProvider: 'BEDROCK',
      authType: 'AWS_KEYS',
      auth: () => awsKeysAuth({ sessionToken: `FwoGZXIvYXdzE${hex(24)}` }),
      baseUrl: 'https://bedrock-runtime.us-east-1.amazonaws.com',
      storesKeyMaterial: true,
    },
    {
      modelProvider: 'BEDROCK',
      authType: 'BEDROCK_API_KEY',
      auth: () => bedrockApiKeyAuth(),
      baseUrl: 'https://bedrock-runtime.us-east-1.amazonaws.com',
      storesKeyMaterial: true,
    },
    {
      modelProvider: 'VERTEX',
      authType: 'GOOGLE_ADC',
      auth: () => googleAdcAuth({ quotaProjectId: 'vault-quota-project' }),
      baseUrl: 'https://us-central1-aiplatform.googleapis.com',
      storesKeyMaterial: false,
    },
    {
      modelProvider: 'VERTEX',
      authType: 'GOOGLE_SERVICE_ACCOUNT',
      auth: () => googleServiceAccountAuth({ privateKey: rsaPrivateKeyPem() }),
      baseUrl: 'https://us-central1-aiplatform.googleapis.com',
      storesKeyMaterial: true,
    },
    {
      modelProvider: 'VERTEX',
      authType: 'GOOGLE_IMPERSONATION',
      auth: () =>
        googleImpersonationAuth({
          delegates: ['delegate-one@vault-test-project.iam.gserviceaccount.com'],
          scopes: ['https://www.googleapis.com/auth/cloud-platform'],
        }),
      baseUrl: 'https://us-central1-aiplatform.googleapis.com',
      storesKeyMaterial: true,
    },
    {
      modelProvider: 'OPENAI',
      authType: 'API_KEY',
      auth: () => apiKeyAuth(),
      baseUrl: 'https://api.openai.com/v1',
      storesKeyMaterial: true,
    },
  ];

  test.each(cases)(
    'a $modelProvider credential with $authType returns its metadata, version 1',
    async ({ modelProvider, authType, auth, baseUrl, storesKeyMaterial }) => {
      const admin = anAdmin(vault);
      const input = aCredentialInput({ modelProvider, auth: auth() });
      const before = Date.now();
      const credential = await admin.created(input);
      const after = Date.now();

      const key = apiKeyOf(input.auth!);
      expect(credential).toEqual({
        id: expect.stringMatching(UUID_PATTERN),
        organizationId: admin.orgId,
        name: input.name,
        modelProvider,
        authType,
        baseUrl,
        settings: {},
        keyLast4: key === null ? null : key.slice(-4),
        storesKeyMaterial,
        secretVersion: 1,
        secretRotatedAt: expect.any(String),
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      for (const timestamp of [credential.createdAt, credential.updatedAt, credential.secretRotatedAt]) {
        expect(Date.parse(timestamp)).toBeGreaterThanOrEqual(before - 1000);
        expect(Date.parse(timestamp)).toBeLessThanOrEqual(after + 1000);
      }
    },
  );

  test.each(cases)(
    'a $modelProvider credential with $authType seals exactly the auth it was given',
    async ({ modelProvider, authType, auth }) => {
      const admin = anAdmin(vault);
      const input = aCredentialInput({ modelProvider, auth: auth() });
      const credential = await admin.created(input);

      expect(await openSecret(vault, admin.orgId, credential.id)).toEqual({
        authType,
        secretVersion: 1,
        payload: expectedSecretPayload(input.auth!),
      });
    },
  );

  test('BEDROCK defaults baseUrl to the runtime endpoint of settings.region', async () => {
    const credential = await anAdmin(vault).created(aCredentialInput({ modelProvider: 'BEDROCK', settings: { region: 'eu-west-1' } }));

    expect(credential.baseUrl).toBe('https://bedrock-runtime.eu-west-1.amazonaws.com');
    expect(credential.settings).toEqual({ region: 'eu-west-1' });
  });

  test('VERTEX defaults baseUrl to the endpoint of settings.location', async () => {
    const credential = await anAdmin(vault).created(
      aCredentialInput({ modelProvider: 'VERTEX', settings: { location: 'europe-west4', project_id: 'vault-test-project' } }),
    );

    expect(credential.baseUrl).toBe('https://europe-west4-aiplatform.googleapis.com');
    expect(credential.settings).toEqual({ location: 'europe-west4', project_id: 'vault-test-project' });
  });

  test('an explicit baseUrl is kept as given', async () => {
    const baseUrl = 'https://vpce-0123456789abcdef-bedrock-runtime.eu-west-1.vpce.amazonaws.com';
    const credential = await anAdmin(vault).created(
      aCredentialInput({ modelProvider: 'BEDROCK', baseUrl, settings: { region: 'eu-west-1' } }),
    );

    expect(credential.baseUrl).toBe(baseUrl);
  });

  test('VERTEX without auth uses its default, GOOGLE_ADC, which stores no key material', async () => {
    const admin = anAdmin(vault);
    const credential = await admin.created(aCredentialInput({ modelProvider: 'VERTEX', auth: undefined }));

    expect(credential).toMatchObject({ authType: 'GOOGLE_ADC', storesKeyMaterial: false, keyLast4: null, secretVersion: 1 });
    expect(await openSecret(vault, admin.orgId, credential.id)).toEqual({ authType: 'GOOGLE_ADC', secretVersion: 1, payload: null });
  });

  test.each(['OPENAI', 'BEDROCK'] as const)(
    '%s without auth is BAD_USER_INPUT on input.auth: its default needs key material',
    async (modelProvider) => {
      const admin = anAdmin(vault);

      expectBadUserInput(await admin.create(aCredentialInput({ modelProvider, auth: undefined })), 'input.auth');
      expect(await countCredentials(database, 'organization_id = $1', [admin.orgId])).toBe(0);
    },
  );

  test.each(['AZURE_OPENAI', 'CUSTOM'] as const)('%s without baseUrl is BAD_USER_INPUT on input.baseUrl', async (modelProvider) => {
    const admin = anAdmin(vault);

    expectBadUserInput(await admin.create(aCredentialInput({ modelProvider, baseUrl: undefined })), 'input.baseUrl');
    expect(await countCredentials(database, 'organization_id = $1', [admin.orgId])).toBe(0);
  });

  test.each(['AZURE_OPENAI', 'CUSTOM'] as const)('%s with a baseUrl takes an API key', async (modelProvider) => {
    const baseUrl = 'https://llm.internal.example.com/v1';
    const credential = await anAdmin(vault).created(aCredentialInput({ modelProvider, baseUrl }));

    expect(credential).toMatchObject({ modelProvider, authType: 'API_KEY', baseUrl });
  });
});

describe('credential(id)', () => {
  test('returns what createCredential returned', async () => {
    const admin = anAdmin(vault);
    const created = await admin.created(aCredentialInput({ modelProvider: 'BEDROCK', settings: { region: 'eu-west-1' } }));

    expect(await admin.read(created.id)).toEqual(created);
  });
});

describe('updateCredential without auth', () => {
  test('a new name replaces the old one and leaves the secret and its version alone', async () => {
    const admin = anAdmin(vault);
    const input = aCredentialInput();
    const created = await admin.created(input);
    await sleep(5);

    const updated = dataOf(await admin.update(created.id, { name: '  renamed  ' })).updateCredential;

    expect(updated).toEqual({ ...created, name: 'renamed', updatedAt: expect.any(String) });
    expect(Date.parse(updated.updatedAt)).toBeGreaterThan(Date.parse(created.updatedAt));
    expect(await admin.read(created.id)).toEqual(updated);
    expect(await openSecret(vault, admin.orgId, created.id)).toEqual({
      authType: 'API_KEY',
      secretVersion: 1,
      payload: expectedSecretPayload(input.auth!),
    });
  });

  test('a new baseUrl replaces the stored one', async () => {
    const admin = anAdmin(vault);
    const created = await admin.created(aCredentialInput());

    const updated = dataOf(await admin.update(created.id, { baseUrl: 'https://proxy.example.com/openai/v1' })).updateCredential;

    expect(updated.baseUrl).toBe('https://proxy.example.com/openai/v1');
    expect((await admin.read(created.id)).baseUrl).toBe('https://proxy.example.com/openai/v1');
  });

  test('settings given replace the stored settings as a whole', async () => {
    const admin = anAdmin(vault);
    const created = await admin.created(aCredentialInput({ settings: { api_version: '2024-06-01', organization: 'org-1' } }));

    const updated = dataOf(await admin.update(created.id, { settings: { model_api_family: 'responses' } })).updateCredential;

    expect(updated.settings).toEqual({ model_api_family: 'responses' });
    expect((await admin.read(created.id)).settings).toEqual({ model_api_family: 'responses' });
  });

  test('a default BEDROCK baseUrl follows a new settings.region', async () => {
    const admin = anAdmin(vault);
    const created = await admin.created(aCredentialInput({ modelProvider: 'BEDROCK', settings: { region: 'eu-west-1' } }));

    const updated = dataOf(await admin.update(created.id, { settings: { region: 'ap-southeast-2' } })).updateCredential;

    expect(updated.baseUrl).toBe('https://bedrock-runtime.ap-southeast-2.amazonaws.com');
  });

  test('baseUrl null resets it to the provider default', async () => {
    const admin = anAdmin(vault);
    const created = await admin.created(aCredentialInput({ baseUrl: 'https://proxy.example.com/v1' }));

    const updated = dataOf(await admin.update(created.id, { baseUrl: null })).updateCredential;

    expect(updated.baseUrl).toBe('https://api.openai.com/v1');
  });

  test('baseUrl null on BEDROCK resets it to the endpoint of the stored region', async () => {
    const admin = anAdmin(vault);
    const created = await admin.created(
      aCredentialInput({ modelProvider: 'BEDROCK', baseUrl: 'https://proxy.example.com/bedrock', settings: { region: 'eu-central-1' } }),
    );

    const updated = dataOf(await admin.update(created.id, { baseUrl: null })).updateCredential;

    expect(updated.baseUrl).toBe('https://bedrock-runtime.eu-central-1.amazonaws.com');
  });
});

describe('updateCredential with auth (rotation)', () => {
  async function ciphertextHex(id: string): Promise<string> {
    const [row] = await database.query<{ ciphertext: string }>(
      "SELECT encode(secret_ciphertext, 'hex') AS ciphertext FROM credentials WHERE id = $1",
      [id],
    );
    return row.ciphertext;
  }

  test('seals the new key, bumps secretVersion, moves secretRotatedAt and keyLast4', async () => {
    const admin = anAdmin(vault);
    const created = await admin.created(aCredentialInput({ auth: apiKeyAuth(`sk-old-${hex(12)}AAAA`) }));
    const oldCiphertext = await ciphertextHex(created.id);
    await sleep(5);

    const newKey = `sk-new-${hex(12)}BBBB`;
    const rotated = dataOf(await admin.update(created.id, { auth: apiKeyAuth(newKey) })).updateCredential;

    expect(rotated).toMatchObject({
      id: created.id,
      name: created.name,
      authType: 'API_KEY',
      keyLast4: 'BBBB',
      secretVersion: 2,
      createdAt: created.createdAt,
    });
    expect(Date.parse(rotated.secretRotatedAt)).toBeGreaterThan(Date.parse(created.secretRotatedAt));
    expect(await openSecret(vault, admin.orgId, created.id)).toEqual({
      authType: 'API_KEY',
      secretVersion: 2,
      payload: { apiKey: newKey },
    });
    expect(await countCredentials(database, "encode(secret_ciphertext, 'hex') = $1", [oldCiphertext])).toBe(0);
  });

  test('a stale expectedSecretVersion is CONFLICT on input.expectedSecretVersion and changes nothing', async () => {
    const admin = anAdmin(vault);
    const created = await admin.created(aCredentialInput());
    dataOf(await admin.update(created.id, { auth: apiKeyAuth() }));
    const before = await storedRow(database, created.id);

    const response = await admin.update(created.id, { auth: apiKeyAuth(), expectedSecretVersion: 1, name: 'should-not-stick' });

    expectError(response, { code: 'CONFLICT', field: 'input.expectedSecretVersion' });
    expect(response.body.data).toBeNull();
    expect(await storedRow(database, created.id)).toEqual(before);
  });

  test('a matching expectedSecretVersion rotates', async () => {
    const admin = anAdmin(vault);
    const created = await admin.created(aCredentialInput());
    const newKey = anApiKey();

    const rotated = dataOf(await admin.update(created.id, { auth: apiKeyAuth(newKey), expectedSecretVersion: 1 })).updateCredential;

    expect(rotated.secretVersion).toBe(2);
    expect((await openSecret(vault, admin.orgId, created.id))?.payload).toEqual({ apiKey: newKey });
  });

  test('of two concurrent rotations expecting the same version, exactly one wins and the other is CONFLICT', async () => {
    const admin = anAdmin(vault);
    const created = await admin.created(aCredentialInput());
    const keys = [anApiKey(), anApiKey()];

    const responses = await Promise.all(keys.map((key) => admin.update(created.id, { auth: apiKeyAuth(key), expectedSecretVersion: 1 })));

    const winners = responses.filter((response) => response.body.errors === undefined);
    const losers = responses.filter((response) => response.body.errors !== undefined);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    expectError(losers[0], { code: 'CONFLICT', field: 'input.expectedSecretVersion' });
    const winningKey = keys[responses.indexOf(winners[0])];
    expect(winners[0].body.data?.updateCredential).toMatchObject({ secretVersion: 2, keyLast4: winningKey.slice(-4) });
    expect(await openSecret(vault, admin.orgId, created.id)).toEqual({
      authType: 'API_KEY',
      secretVersion: 2,
      payload: { apiKey: winningKey },
    });
  });

  test('may switch to another auth type the provider takes (BEDROCK AWS_ROLE → AWS_KEYS → BEDROCK_API_KEY)', async () => {
    const admin = anAdmin(vault);
    const created = await admin.created(aCredentialInput({ modelProvider: 'BEDROCK', auth: awsRoleAuth() }));

    const keys = awsKeysAuth();
    const toKeys = dataOf(await admin.update(created.id, { auth: keys })).updateCredential;
    expect(toKeys).toMatchObject({ authType: 'AWS_KEYS', keyLast4: null, storesKeyMaterial: true, secretVersion: 2 });
    expect(await openSecret(vault, admin.orgId, created.id)).toEqual({
      authType: 'AWS_KEYS',
      secretVersion: 2,
      payload: expectedSecretPayload(keys),
    });

    const apiKey = bedrockApiKeyAuth();
    const toApiKey = dataOf(await admin.update(created.id, { auth: apiKey })).updateCredential;
    expect(toApiKey).toMatchObject({ authType: 'BEDROCK_API_KEY', keyLast4: apiKey.bedrockApiKey.apiKey.slice(-4), secretVersion: 3 });
    expect(await openSecret(vault, admin.orgId, created.id)).toEqual({
      authType: 'BEDROCK_API_KEY',
      secretVersion: 3,
      payload: expectedSecretPayload(apiKey),
    });
  });

  test('to GOOGLE_ADC drops the stored key material', async () => {
    const admin = anAdmin(vault);
    const created = await admin.created(aCredentialInput({ modelProvider: 'VERTEX', auth: googleServiceAccountAuth() }));

    const rotated = dataOf(await admin.update(created.id, { auth: googleAdcAuth() })).updateCredential;

    expect(rotated).toMatchObject({ authType: 'GOOGLE_ADC', storesKeyMaterial: false, keyLast4: null, secretVersion: 2 });
    expect(await openSecret(vault, admin.orgId, created.id)).toEqual({ authType: 'GOOGLE_ADC', secretVersion: 2, payload: null });
    expect(await countCredentials(database, 'id = $1 AND secret_ciphertext IS NULL AND secret_wrapped_key IS NULL', [created.id])).toBe(1);
  });

  test('to an auth type the provider does not take is BAD_USER_INPUT on that member and changes nothing', async () => {
    const admin = anAdmin(vault);
    const created = await admin.created(aCredentialInput({ modelProvider: 'BEDROCK' }));
    const before = await storedRow(database, created.id);

    expectBadUserInput(await admin.update(created.id, { auth: apiKeyAuth() }), 'input.auth.apiKey');
    expect(await storedRow(database, created.id)).toEqual(before);
  });
});

describe('deleteCredential', () => {
  test('returns the id, after which the credential is NOT_FOUND everywhere', async () => {
    const admin = anAdmin(vault);
    const created = await admin.created(aCredentialInput());

    expect(dataOf(await admin.delete(created.id))).toEqual({ deleteCredential: created.id });

    expectError(await admin.get(created.id), { code: 'NOT_FOUND', message: created.id });
    expectError(await admin.update(created.id, { name: 'x' }), { code: 'NOT_FOUND', message: created.id });
    expect((await admin.listed()).totalCount).toBe(0);
    expect(await countCredentials(database, 'id = $1', [created.id])).toBe(0);
  });

  test('a second delete is NOT_FOUND', async () => {
    const admin = anAdmin(vault);
    const created = await admin.created(aCredentialInput());
    dataOf(await admin.delete(created.id));

    const second = await admin.delete(created.id);

    expectError(second, { code: 'NOT_FOUND', message: created.id });
    expect(second.body.data).toBeNull();
  });
});

describe('names', () => {
  test('a duplicate name in the same organization is CONFLICT on input.name, and nothing is written', async () => {
    const admin = anAdmin(vault);
    const first = await admin.created(aCredentialInput());

    expectError(await admin.create(aCredentialInput({ name: first.name })), { code: 'CONFLICT', field: 'input.name' });
    expect(await countCredentials(database, 'organization_id = $1', [admin.orgId])).toBe(1);
  });

  test('a name that differs only by surrounding whitespace is the same name', async () => {
    const admin = anAdmin(vault);
    const first = await admin.created(aCredentialInput());

    expectError(await admin.create(aCredentialInput({ name: `  ${first.name}\t` })), { code: 'CONFLICT', field: 'input.name' });
  });

  test('the same name in another organization is fine', async () => {
    const name = uniqueName();
    const one = await anAdmin(vault).created(aCredentialInput({ name }));
    const other = await anAdmin(vault).created(aCredentialInput({ name }));

    expect(other.name).toBe(name);
    expect(other.organizationId).not.toBe(one.organizationId);
  });

  test('renaming onto an existing name is CONFLICT on input.name and changes nothing', async () => {
    const admin = anAdmin(vault);
    const taken = await admin.created(aCredentialInput());
    const renamed: CredentialView = await admin.created(aCredentialInput());
    const before = await storedRow(database, renamed.id);

    expectError(await admin.update(renamed.id, { name: taken.name }), { code: 'CONFLICT', field: 'input.name' });
    expect(await storedRow(database, renamed.id)).toEqual(before);
  });

  test('renaming a credential to its own name is fine', async () => {
    const admin = anAdmin(vault);
    const created = await admin.created(aCredentialInput());

    expect(dataOf(await admin.update(created.id, { name: created.name })).updateCredential.name).toBe(created.name);
  });
});

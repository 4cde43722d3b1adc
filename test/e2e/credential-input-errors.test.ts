// Invalid input, each refused as BAD_USER_INPUT whose `extensions.field` names the offending input
// path, whether the value arrives in variables or as a literal in the document. A refused
// create leaves no row behind.
import { generateKeyPairSync } from 'node:crypto';
import {
  aCredentialInput,
  apiKeyAuth,
  awsKeysAuth,
  awsRoleAuth,
  bedrockApiKeyAuth,
  type CreateCredentialInput,
  DEFAULT_GOOGLE_TOKEN_URI,
  googleAdcAuth,
  googleServiceAccountAuth,
  TEST_ROLE_ARN,
} from '../support/factories';
import { anAdmin } from '../support/organizations';
import { type GraphQLResponse, startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { countCredentials, expectBadUserInput, storedRow, type VaultClient } from '../support/vault-client';

let database: TestDatabase;
let vault: TestApp;
/** Every refused create goes to this organization, which must end up empty. */
let refused: VaultClient;
/** Accepted inputs go here. */
let accepted: VaultClient;

beforeAll(async () => {
  database = await createTestDatabase('input_errors');
  vault = await startTestApp({ databaseUrl: database.url });
  refused = anAdmin(vault);
  accepted = anAdmin(vault);
});

afterAll(async () => {
  await vault?.stop();
  await database?.drop();
});

/** Sends the create and asserts BAD_USER_INPUT on `field`, with no row written. */
async function expectRefusedCreate(input: CreateCredentialInput | Record<string, unknown>, field: string, message?: string | RegExp) {
  const rowsBefore = await countCredentials(database);
  const response = await refused.create(input);
  expectBadUserInput(response, field, message);
  expect(response.body.data ?? null).toBeNull();
  expect(await countCredentials(database)).toBe(rowsBefore);
}

/** Sends a createCredential whose input is written into the document as a literal. */
function createLiteral(inputLiteral: string): Promise<GraphQLResponse> {
  return vault.graphql(`mutation CreateLiteral { createCredential(input: ${inputLiteral}) { id } }`, undefined, { token: refused.token });
}

async function expectRefusedLiteral(inputLiteral: string, field: string) {
  const rowsBefore = await countCredentials(database);
  const response = await createLiteral(inputLiteral);
  expectBadUserInput(response, field);
  expect(response.body.data ?? null).toBeNull();
  expect(await countCredentials(database)).toBe(rowsBefore);
}

describe('name', () => {
  test.each([
    ['empty', ''],
    ['blank', '   '],
    ['only line breaks and tabs', '\n\t '],
    ['201 characters', 'n'.repeat(201)],
    ['a control character', 'prod\u0000key'],
  ])('%s is BAD_USER_INPUT on input.name', async (_label, name) => {
    await expectRefusedCreate(aCredentialInput({ name }), 'input.name');
  });

  test('200 characters is accepted', async () => {
    const name = 'n'.repeat(199) + 'x';
    expect((await accepted.created(aCredentialInput({ name }))).name).toBe(name);
  });

  test('is trimmed: 200 characters inside surrounding whitespace is accepted', async () => {
    const name = 'm'.repeat(199) + 'y';
    expect((await accepted.created(aCredentialInput({ name: `  ${name}\t ` }))).name).toBe(name);
  });

  test('missing from the input variable is BAD_USER_INPUT on input.name', async () => {
    const { name: _omitted, ...withoutName } = aCredentialInput();
    await expectRefusedCreate(withoutName, 'input.name');
  });

  test('null in an update is BAD_USER_INPUT on input.name', async () => {
    const created = await accepted.created(aCredentialInput());
    expectBadUserInput(await accepted.update(created.id, { name: null }), 'input.name');
  });

  test('blank in an update is BAD_USER_INPUT on input.name and changes nothing', async () => {
    const created = await accepted.created(aCredentialInput());
    const before = await storedRow(database, created.id);
    expectBadUserInput(await accepted.update(created.id, { name: '  ' }), 'input.name');
    expect(await storedRow(database, created.id)).toEqual(before);
  });
});

describe('awsRole', () => {
  test.each([
    ['a partition other than aws', 'arn:gcp:iam::123456789012:role/gateway'],
    ['an account id of 11 digits', 'arn:aws:iam::12345678901:role/gateway'],
    ['an account id of 13 digits', 'arn:aws:iam::1234567890123:role/gateway'],
    ['a user instead of a role', 'arn:aws:iam::123456789012:user/gateway'],
    ['an STS assumed-role ARN', 'arn:aws:sts::123456789012:assumed-role/gateway/session'],
    ['no role name', 'arn:aws:iam::123456789012:role/'],
    ['nothing but the role name', 'gateway'],
    ['blank', ' '],
  ])('an iamRoleArn with %s is BAD_USER_INPUT on input.auth.awsRole.iamRoleArn', async (_label, iamRoleArn) => {
    await expectRefusedCreate(
      aCredentialInput({ modelProvider: 'BEDROCK', auth: awsRoleAuth({ iamRoleArn }) }),
      'input.auth.awsRole.iamRoleArn',
    );
  });

  test.each([
    'arn:aws:iam::123456789012:role/gateway',
    'arn:aws-cn:iam::123456789012:role/gateway',
    'arn:aws-us-gov:iam::123456789012:role/service-role/path/gateway+bedrock=1,2.@-_',
  ])('the iamRoleArn %s is accepted', async (iamRoleArn) => {
    expect((await accepted.created(aCredentialInput({ modelProvider: 'BEDROCK', auth: awsRoleAuth({ iamRoleArn }) }))).authType).toBe(
      'AWS_ROLE',
    );
  });

  test.each([
    ['1 character', 'x'],
    ['1225 characters', 'e'.repeat(1225)],
    ['a space', 'external id'],
  ])('an externalId of %s is BAD_USER_INPUT on input.auth.awsRole.externalId', async (_label, externalId) => {
    await expectRefusedCreate(
      aCredentialInput({ modelProvider: 'BEDROCK', auth: awsRoleAuth({ externalId }) }),
      'input.auth.awsRole.externalId',
    );
  });

  test.each([
    ['2 characters', 'xy'],
    ['1224 characters', 'e'.repeat(1224)],
  ])('an externalId of %s is accepted', async (_label, externalId) => {
    expect(
      (await accepted.created(aCredentialInput({ modelProvider: 'BEDROCK', auth: awsRoleAuth({ externalId, iamRoleArn: TEST_ROLE_ARN }) })))
        .authType,
    ).toBe('AWS_ROLE');
  });
});

describe('awsKeys', () => {
  test('a lower-case accessKeyId is BAD_USER_INPUT on input.auth.awsKeys.accessKeyId', async () => {
    await expectRefusedCreate(
      aCredentialInput({ modelProvider: 'BEDROCK', auth: awsKeysAuth({ accessKeyId: 'akiaexampleexample' }) }),
      'input.auth.awsKeys.accessKeyId',
    );
  });

  test('a secretAccessKey with a line break is BAD_USER_INPUT on input.auth.awsKeys.secretAccessKey', async () => {
    await expectRefusedCreate(
      aCredentialInput({ modelProvider: 'BEDROCK', auth: awsKeysAuth({ secretAccessKey: 'wJalrXUtnFEMI/K7MDENG\n' }) }),
      'input.auth.awsKeys.secretAccessKey',
    );
  });

  test('an empty sessionToken is BAD_USER_INPUT on input.auth.awsKeys.sessionToken', async () => {
    await expectRefusedCreate(
      aCredentialInput({ modelProvider: 'BEDROCK', auth: awsKeysAuth({ sessionToken: '' }) }),
      'input.auth.awsKeys.sessionToken',
    );
  });
});

describe('baseUrl', () => {
  test.each([
    ['relative', '/v1'],
    ['without a scheme', 'api.openai.com/v1'],
    ['ftp', 'ftp://files.example.com/models'],
    ['javascript', 'javascript:alert(1)'],
    ['file', 'file:///etc/passwd'],
    ['with user:pass@', 'https://user:pass@api.example.com/v1'],
    ['with a user name only', 'https://user@api.example.com/v1'],
    ['with a fragment', 'https://api.example.com/v1#section'],
    ['of 2049 characters', `https://api.example.com/${'p'.repeat(2049 - 'https://api.example.com/'.length)}`],
  ])('%s is BAD_USER_INPUT on input.baseUrl', async (_label, baseUrl) => {
    await expectRefusedCreate(aCredentialInput({ baseUrl }), 'input.baseUrl');
  });

  // The WHATWG parser drops tabs and line breaks and percent-encodes NUL, so these parse; the raw
  // string, stored as given, is not a URL (and NUL cannot even be stored in a PostgreSQL text).
  test.each([
    ['a NUL character', 'https://api.example.com/v1\u0000'],
    ['a line break inside the host', 'https://api.exa\nmple.com/v1'],
  ])('with %s is BAD_USER_INPUT on input.baseUrl', async (_label, baseUrl) => {
    await expectRefusedCreate(aCredentialInput({ baseUrl }), 'input.baseUrl');
  });

  test('a baseUrl with a NUL character in an update is BAD_USER_INPUT on input.baseUrl', async () => {
    const created = await accepted.created(aCredentialInput());
    expectBadUserInput(await accepted.update(created.id, { baseUrl: 'https://proxy.example.com/v1\u0000' }), 'input.baseUrl');
  });

  test('an invalid baseUrl in an update is BAD_USER_INPUT on input.baseUrl and changes nothing', async () => {
    const created = await accepted.created(aCredentialInput());
    const before = await storedRow(database, created.id);
    expectBadUserInput(await accepted.update(created.id, { baseUrl: 'ftp://files.example.com' }), 'input.baseUrl');
    expect(await storedRow(database, created.id)).toEqual(before);
  });
});

describe('settings', () => {
  test.each([
    ['an array', ['region', 'eu-west-1']],
    ['a string', 'region=eu-west-1'],
    ['a number', 42],
    ['a boolean', true],
  ])('%s in variables is BAD_USER_INPUT on input.settings', async (_label, settings) => {
    await expectRefusedCreate({ ...aCredentialInput(), settings }, 'input.settings');
  });

  test.each([
    ['an array', '["region", "eu-west-1"]'],
    ['a string', '"region=eu-west-1"'],
    ['a number', '42'],
  ])('%s as a literal is BAD_USER_INPUT on input.settings', async (_label, literal) => {
    await expectRefusedLiteral(
      `{ name: "literal-settings", modelProvider: OPENAI, auth: { apiKey: { apiKey: "sk-literal-0123456789" } }, settings: ${literal} }`,
      'input.settings',
    );
  });

  test('over 16 KiB of JSON is BAD_USER_INPUT on input.settings', async () => {
    await expectRefusedCreate(aCredentialInput({ settings: { notes: 'x'.repeat(16 * 1024) } }), 'input.settings');
  });

  test.each(['api_key', 'apiKey', 'API-KEY', 'password', 'secret_access_key', 'private_key', 'token', 'client_secret', 'Authorization'])(
    'a secret-like key %s is BAD_USER_INPUT on input.settings.<key>',
    async (key) => {
      await expectRefusedCreate(aCredentialInput({ settings: { region: 'eu-west-1', [key]: 'value' } }), `input.settings.${key}`);
    },
  );

  test('a secret-like key nested in settings is BAD_USER_INPUT on its path', async () => {
    await expectRefusedCreate(
      aCredentialInput({ modelProvider: 'CUSTOM', settings: { headers: { Authorization: 'Bearer sk-nested-0123456789' } } }),
      'input.settings.headers.Authorization',
    );
  });

  // PostgreSQL jsonb cannot hold these strings; the service must refuse them rather than fail on the insert.
  test.each([
    ['a NUL character in a value', { note: 'before\u0000after' }, 'input.settings.note'],
    ['a NUL character in a key', { ['note\u0000']: 'x' }, 'input.settings'],
    ['a lone UTF-16 surrogate in a value', { note: 'before\ud800after' }, 'input.settings.note'],
  ])('settings with %s are BAD_USER_INPUT on the offending path', async (_label, settings, field) => {
    await expectRefusedCreate(aCredentialInput({ settings }), field);
  });

  test('a malformed BEDROCK region is BAD_USER_INPUT on input.settings.region', async () => {
    await expectRefusedCreate(aCredentialInput({ modelProvider: 'BEDROCK', settings: { region: 'Mars North' } }), 'input.settings.region');
  });

  test('null in an update is BAD_USER_INPUT on input.settings', async () => {
    const created = await accepted.created(aCredentialInput());
    expectBadUserInput(await accepted.update(created.id, { settings: null }), 'input.settings');
  });

  test('a secret-like key in an update is BAD_USER_INPUT on input.settings.<key> and changes nothing', async () => {
    const created = await accepted.created(aCredentialInput());
    const before = await storedRow(database, created.id);
    expectBadUserInput(await accepted.update(created.id, { settings: { api_key: 'sk-x' } }), 'input.settings.api_key');
    expect(await storedRow(database, created.id)).toEqual(before);
  });
});

describe('API keys', () => {
  test('an apiKey over 4 KiB is BAD_USER_INPUT on input.auth.apiKey.apiKey', async () => {
    await expectRefusedCreate(aCredentialInput({ auth: apiKeyAuth(`sk-${'k'.repeat(4096)}`) }), 'input.auth.apiKey.apiKey');
  });

  test('an apiKey of exactly 4 KiB is accepted', async () => {
    const apiKey = `sk-${'k'.repeat(4093)}`;
    expect((await accepted.created(aCredentialInput({ auth: apiKeyAuth(apiKey) }))).keyLast4).toBe('kkkk');
  });

  test('a bedrockApiKey over 4 KiB is BAD_USER_INPUT on input.auth.bedrockApiKey.apiKey', async () => {
    await expectRefusedCreate(
      aCredentialInput({ modelProvider: 'BEDROCK', auth: bedrockApiKeyAuth(`ABSK${'k'.repeat(4096)}`) }),
      'input.auth.bedrockApiKey.apiKey',
    );
  });

  test.each([
    ['a space', 'sk-live 0123456789'],
    ['a trailing line break', 'sk-live-0123456789\n'],
    ['fewer than 8 characters', 'sk-1234'],
    ['nothing but spaces', '        '],
  ])('an apiKey with %s is BAD_USER_INPUT on input.auth.apiKey.apiKey', async (_label, apiKey) => {
    await expectRefusedCreate(aCredentialInput({ auth: apiKeyAuth(apiKey) }), 'input.auth.apiKey.apiKey');
  });
});

describe('googleServiceAccount', () => {
  const vertex = (overrides: Parameters<typeof googleServiceAccountAuth>[0]) =>
    aCredentialInput({ modelProvider: 'VERTEX', auth: googleServiceAccountAuth(overrides) });

  test.each([
    ['not PEM at all', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC'],
    ['PEM armour around garbage', '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END PRIVATE KEY-----\n'],
    ['a public key', generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString()],
    [
      'an EC key instead of RSA',
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    ],
    ['over 16 KiB', `-----BEGIN PRIVATE KEY-----\n${'A'.repeat(16 * 1024)}\n-----END PRIVATE KEY-----\n`],
  ])('a privateKey that is %s is BAD_USER_INPUT on input.auth.googleServiceAccount.privateKey', async (_label, privateKey) => {
    await expectRefusedCreate(vertex({ privateKey }), 'input.auth.googleServiceAccount.privateKey');
  });

  test('a tokenUri other than the configured one is BAD_USER_INPUT on input.auth.googleServiceAccount.tokenUri', async () => {
    await expectRefusedCreate(
      vertex({ tokenUri: 'https://oauth2.attacker.example.com/token' }),
      'input.auth.googleServiceAccount.tokenUri',
    );
  });

  test('the configured tokenUri is accepted', async () => {
    expect((await accepted.created(vertex({ tokenUri: DEFAULT_GOOGLE_TOKEN_URI }))).authType).toBe('GOOGLE_SERVICE_ACCOUNT');
  });

  test.each([
    ['clientEmail', { clientEmail: 'not an email' }],
    ['privateKeyId', { privateKeyId: 'key id with spaces' }],
    ['projectId', { projectId: 'Project_With_Capitals' }],
    ['clientId', { clientId: 'client-abc' }],
  ])('a malformed %s is BAD_USER_INPUT on input.auth.googleServiceAccount.<field>', async (field, overrides) => {
    await expectRefusedCreate(vertex(overrides), `input.auth.googleServiceAccount.${field}`);
  });
});

describe('auth members', () => {
  test.each([
    ['OPENAI', 'awsRole', awsRoleAuth()],
    ['OPENAI', 'googleAdc', googleAdcAuth()],
    ['VERTEX', 'apiKey', apiKeyAuth()],
    ['BEDROCK', 'googleAdc', googleAdcAuth()],
    ['ANTHROPIC', 'bedrockApiKey', bedrockApiKeyAuth()],
  ] as const)('%s with %s is BAD_USER_INPUT on input.auth.<member>', async (modelProvider, member, auth) => {
    await expectRefusedCreate(aCredentialInput({ modelProvider, auth }), `input.auth.${member}`);
  });

  test.each([
    ['two members', { ...apiKeyAuth(), ...awsRoleAuth() }],
    ['no member', {}],
  ])('@oneOf: %s in variables is BAD_USER_INPUT on input.auth', async (_label, auth) => {
    await expectRefusedCreate({ ...aCredentialInput({ modelProvider: 'BEDROCK' }), auth }, 'input.auth');
  });

  test.each([
    [
      'two members',
      '{ bedrockApiKey: { apiKey: "ABSK0123456789abcdef" }, awsRole: { iamRoleArn: "arn:aws:iam::123456789012:role/x", externalId: "ext-0123" } }',
    ],
    ['no member', '{}'],
  ])('@oneOf: %s as a literal is BAD_USER_INPUT on input.auth', async (_label, authLiteral) => {
    await expectRefusedLiteral(`{ name: "literal-oneof", modelProvider: BEDROCK, auth: ${authLiteral} }`, 'input.auth');
  });

  test('@oneOf: two members in an update is BAD_USER_INPUT on input.auth and changes nothing', async () => {
    const created = await accepted.created(aCredentialInput());
    const before = await storedRow(database, created.id);
    expectBadUserInput(await accepted.update(created.id, { auth: { ...apiKeyAuth(), ...bedrockApiKeyAuth() } }), 'input.auth');
    expect(await storedRow(database, created.id)).toEqual(before);
  });

  test.each(['ANTHROPIC', 'OPENAI'] as const)(
    'oauthPassthrough on %s is BAD_USER_INPUT: it is configured on a provider',
    async (modelProvider) => {
      await expectRefusedCreate(
        { ...aCredentialInput({ modelProvider }), auth: { oauthPassthrough: true } },
        'input.auth.oauthPassthrough',
        /Anthropic OAuth passthrough is configured on a provider/,
      );
    },
  );

  test('oauthPassthrough in an update is BAD_USER_INPUT: it is configured on a provider', async () => {
    const created = await accepted.created(aCredentialInput({ modelProvider: 'ANTHROPIC' }));
    expectBadUserInput(
      await accepted.update(created.id, { auth: { oauthPassthrough: true } }),
      'input.auth.oauthPassthrough',
      /Anthropic OAuth passthrough is configured on a provider/,
    );
  });

  test('null auth in an update is BAD_USER_INPUT on input.auth', async () => {
    const created = await accepted.created(aCredentialInput());
    expectBadUserInput(await accepted.update(created.id, { auth: null }), 'input.auth');
  });

  test('an expectedSecretVersion of 0 is BAD_USER_INPUT on input.expectedSecretVersion', async () => {
    const created = await accepted.created(aCredentialInput());
    expectBadUserInput(await accepted.update(created.id, { auth: apiKeyAuth(), expectedSecretVersion: 0 }), 'input.expectedSecretVersion');
  });
});

describe('ids', () => {
  test.each(['not-a-uuid', '', '123e4567-e89b-12d3-a456-42661417400'])('credential(id: "%s") is BAD_USER_INPUT on id', async (id) => {
    expectBadUserInput(await accepted.get(id), 'id');
  });

  test('updateCredential with an id that is not a UUID is BAD_USER_INPUT on id', async () => {
    expectBadUserInput(await accepted.update('credential-1', { name: 'x' }), 'id');
  });

  test('deleteCredential with an id that is not a UUID is BAD_USER_INPUT on id', async () => {
    expectBadUserInput(await accepted.delete('credential-1'), 'id');
  });
});

describe('enums', () => {
  test('an unknown modelProvider in variables is BAD_USER_INPUT on input.modelProvider', async () => {
    await expectRefusedCreate({ ...aCredentialInput(), modelProvider: 'OPENAI_COMPATIBLE' }, 'input.modelProvider');
  });

  test('an unknown modelProvider as a literal is BAD_USER_INPUT on input.modelProvider', async () => {
    await expectRefusedLiteral(
      '{ name: "literal-enum", modelProvider: OPENAI_COMPATIBLE, auth: { apiKey: { apiKey: "sk-literal-0123456789" } } }',
      'input.modelProvider',
    );
  });

  test('a lower-case modelProvider in variables is refused with "Did you mean OPENAI?", without the value', async () => {
    const response = await refused.create({ ...aCredentialInput(), modelProvider: 'openai' });

    expectBadUserInput(response, 'input.modelProvider', /enum\. Did you mean the enum value "OPENAI"\?$/);
    expect(response.text).not.toContain('"openai"');
  });

  test('a lower-case modelProvider as a literal is refused with "Did you mean OPENAI?", without the value', async () => {
    const response = await createLiteral(
      '{ name: "literal-hint", modelProvider: openai, auth: { apiKey: { apiKey: "sk-literal-0123456789" } } }',
    );

    expectBadUserInput(response, 'input.modelProvider', /enum\. Did you mean the enum value "OPENAI"\?$/);
    expect(response.text).not.toContain('"openai"');
  });

  test('an unknown modelProvider filter is BAD_USER_INPUT on modelProvider', async () => {
    expectBadUserInput(await accepted.list({ modelProvider: 'OPENAI_COMPATIBLE' as never }), 'modelProvider');
  });
});

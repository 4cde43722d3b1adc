// Write-only secrets, checked from the outside: canary secrets go into every secret field of every
// auth type, through creates, reads, lists, rotations and refused requests; then every response,
// every log line and every table of the database is searched for them (as is, hex, base64).
// The last test proves the search can see them: they open from the SecretStore and they were sent.
import { randomUUID } from 'node:crypto';
import {
  accessKeyIdCanary,
  apiKeyCanary,
  type Canary,
  secretCanaries,
  type SecretSet,
  canary,
  dumpDatabase,
  findCanaries,
  logHaystacks,
  nameCanary,
  Transcript,
} from '../support/canaries';
import { aCredentialInput, type CreateCredentialInput, type CredentialAuthInput, type ModelProvider } from '../support/factories';
import { anIdempotencyKey, storedIdempotencyKey, withIdempotencyKey } from '../support/idempotency-keys';
import { anAdmin, anOrganization } from '../support/organizations';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import {
  CREATE_CREDENTIAL,
  type CredentialView,
  dataOf,
  GET_CREDENTIAL,
  LIST_CREDENTIALS,
  openSecret,
  UPDATE_CREDENTIAL,
} from '../support/vault-client';

let database: TestDatabase;
let vault: TestApp;
const orgId = randomUUID();
let adminToken: string;
let viewerToken: string;
let strangerToken: string;

/** Every canary sent anywhere. */
const planted: Canary[] = [];
/**
 * Every request sent (body or URL), for the proof that the canaries really went out, and every
 * response, by the test that received it.
 */
const transcript = new Transcript();

function plant<T extends Canary>(canary: T): T {
  planted.push(canary);
  return canary;
}

/** POSTs a GraphQL request, recording what went out and what came back under `source`. */
const send = (source: string, query: string, variables: Record<string, unknown> | undefined, token: string | undefined) =>
  transcript.graphql(vault, source, query, variables, token);

/** A raw HTTP exchange, recorded with the response headers. */
async function sendRaw(
  source: string,
  url: string,
  init: RequestInit,
  sentText: string,
): Promise<{ status: number; body: { errors?: { extensions?: Record<string, unknown> }[] } }> {
  transcript.sent.push({ source, text: sentText });
  const response = await fetch(url, init);
  const text = await response.text();
  transcript.received.push({ source, text: `${JSON.stringify([...response.headers])}\n${text}` });
  return { status: response.status, body: JSON.parse(text) as { errors?: { extensions?: Record<string, unknown> }[] } };
}

/** A raw JSON body POSTed by the admin, recorded as it went out. */
const postRaw = (source: string, body: string) =>
  sendRaw(
    source,
    vault.url,
    { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` }, body },
    body,
  );

/** One planted canary for every secret field of every auth type. */
function secretSet(tag: string): SecretSet {
  const set = secretCanaries(tag);
  planted.push(...Object.values(set));
  return set;
}

/** Per auth type: the provider, the auth input built from the set, and the canaries it seals. */
function authCases(set: SecretSet): { authType: string; modelProvider: ModelProvider; auth: CredentialAuthInput; sealed: Canary[] }[] {
  return [
    { authType: 'API_KEY', modelProvider: 'OPENAI', auth: { apiKey: { apiKey: set.apiKey.value } }, sealed: [set.apiKey] },
    {
      authType: 'BEDROCK_API_KEY',
      modelProvider: 'BEDROCK',
      auth: { bedrockApiKey: { apiKey: set.bedrockApiKey.value } },
      sealed: [set.bedrockApiKey],
    },
    {
      authType: 'AWS_ROLE',
      modelProvider: 'BEDROCK',
      auth: { awsRole: { iamRoleArn: set.iamRoleArn.value, externalId: set.externalId.value } },
      sealed: [set.iamRoleArn, set.externalId],
    },
    {
      authType: 'AWS_KEYS',
      modelProvider: 'BEDROCK',
      auth: {
        awsKeys: { accessKeyId: set.accessKeyId.value, secretAccessKey: set.secretAccessKey.value, sessionToken: set.sessionToken.value },
      },
      sealed: [set.accessKeyId, set.secretAccessKey, set.sessionToken],
    },
    {
      authType: 'GOOGLE_SERVICE_ACCOUNT',
      modelProvider: 'VERTEX',
      auth: {
        googleServiceAccount: {
          clientEmail: set.clientEmail.value,
          privateKey: set.privateKey.value,
          privateKeyId: set.privateKeyId.value,
          projectId: 'vault-test-project',
        },
      },
      sealed: [set.clientEmail, set.privateKey, set.privateKeyId],
    },
    {
      authType: 'GOOGLE_IMPERSONATION',
      modelProvider: 'VERTEX',
      auth: { googleImpersonation: { targetPrincipal: set.targetPrincipal.value, delegates: [set.delegate.value] } },
      sealed: [set.targetPrincipal, set.delegate],
    },
    { authType: 'GOOGLE_ADC', modelProvider: 'VERTEX', auth: { googleAdc: { quotaProjectId: 'vault-quota-project' } }, sealed: [] },
  ];
}

/** The credentials created, by auth type, with the canaries currently sealed in each. */
const credentials = new Map<string, { credential: CredentialView; sealed: Canary[] }>();

beforeAll(async () => {
  database = await createTestDatabase('leak_scan');
  vault = await startTestApp({ databaseUrl: database.url });
  const organization = anOrganization(vault, orgId);
  adminToken = organization.admin.token;
  viewerToken = organization.viewer.token;
  strangerToken = anAdmin(vault).token;
});

afterAll(async () => {
  await vault?.stop();
  await database?.drop();
});

test('creating a credential of every auth type echoes no secret, only keyLast4', async () => {
  for (const { authType, modelProvider, auth, sealed } of authCases(secretSet('Created'))) {
    const response = await send('create', CREATE_CREDENTIAL, { input: aCredentialInput({ modelProvider, auth }) }, adminToken);
    const credential = (dataOf(response) as { createCredential: CredentialView }).createCredential;
    expect(credential.authType).toBe(authType);
    credentials.set(authType, { credential, sealed });
  }
  const inline = plant(apiKeyCanary('apiKeyInline'));
  const literal = await send(
    'create',
    `mutation CreateInline { createCredential(input: { name: "inline", modelProvider: MISTRAL, auth: { apiKey: { apiKey: ${JSON.stringify(inline.value)} } } }) { id keyLast4 } }`,
    undefined,
    adminToken,
  );
  expect(dataOf(literal)).toEqual({ createCredential: { id: expect.any(String), keyLast4: inline.value.slice(-4) } });

  expect(findCanaries(planted, transcript.receivedBy('create'))).toEqual([]);
  expect(credentials.get('API_KEY')!.credential.keyLast4).toBe(credentials.get('API_KEY')!.sealed[0].value.slice(-4));
});

test('reading every credential and listing them echoes no secret', async () => {
  for (const { credential } of credentials.values()) {
    dataOf(await send('read', GET_CREDENTIAL, { id: credential.id }, adminToken));
    dataOf(await send('read', GET_CREDENTIAL, { id: credential.id }, viewerToken));
  }
  dataOf(await send('read', LIST_CREDENTIALS, { first: 100 }, adminToken));
  dataOf(await send('read', LIST_CREDENTIALS, { modelProvider: 'BEDROCK' }, viewerToken));

  expect(findCanaries(planted, transcript.receivedBy('read'))).toEqual([]);
});

test('rotating every secret echoes no secret', async () => {
  for (const { authType, auth, sealed } of authCases(secretSet('Rotated'))) {
    const { credential } = credentials.get(authType)!;
    const response = await send('rotate', UPDATE_CREDENTIAL, { id: credential.id, input: { auth, expectedSecretVersion: 1 } }, adminToken);
    const rotated = (dataOf(response) as { updateCredential: CredentialView }).updateCredential;
    expect(rotated.secretVersion).toBe(2);
    credentials.set(authType, { credential: rotated, sealed });
  }

  expect(findCanaries(planted, transcript.receivedBy('rotate'))).toEqual([]);
});

interface Refusal {
  name: string;
  code: string;
  field?: string;
  run(source: string): Promise<{ status: number; body: { errors?: { extensions?: Record<string, unknown> }[] } }>;
}

const createWith = (source: string, input: CreateCredentialInput | Record<string, unknown>, token: string = adminToken) =>
  send(source, CREATE_CREDENTIAL, { input }, token);
const anonymousCreate = (source: string, input: CreateCredentialInput | Record<string, unknown>) =>
  send(source, CREATE_CREDENTIAL, { input }, undefined);
const literalCreate = (source: string, inputLiteral: string) =>
  send(source, `mutation CreateLiteral { createCredential(input: ${inputLiteral}) { id } }`, undefined, adminToken);
const q = (value: string) => JSON.stringify(value);
/** A VERTEX credential input whose service-account key is `privateKey`. */
const withPrivateKey = (privateKey: string) =>
  aCredentialInput({
    modelProvider: 'VERTEX',
    auth: {
      googleServiceAccount: {
        clientEmail: 'vault@vault-test-project.iam.gserviceaccount.com',
        privateKey,
        privateKeyId: 'abc123',
        projectId: 'vault-test-project',
      },
    },
  });

const refusals: Refusal[] = [
  {
    name: 'awsKeys given as a string (variables)',
    code: 'BAD_USER_INPUT',
    field: 'input.auth.awsKeys',
    run: (source) =>
      createWith(source, { ...aCredentialInput({ modelProvider: 'BEDROCK' }), auth: { awsKeys: plant(canary('awsKeysString')).value } }),
  },
  {
    name: 'awsKeys given as a string (literal)',
    code: 'BAD_USER_INPUT',
    field: 'input.auth.awsKeys',
    run: (source) =>
      literalCreate(source, `{ name: "x", modelProvider: BEDROCK, auth: { awsKeys: ${q(plant(canary('awsKeysLiteral')).value)} } }`),
  },
  {
    name: 'an apiKey given as a list (variables)',
    code: 'BAD_USER_INPUT',
    field: 'input.auth.apiKey.apiKey',
    run: (source) => createWith(source, { ...aCredentialInput(), auth: { apiKey: { apiKey: [plant(canary('apiKeyList')).value] } } }),
  },
  {
    name: 'an apiKey given as an object (literal)',
    code: 'BAD_USER_INPUT',
    field: 'input.auth.apiKey.apiKey',
    run: (source) =>
      literalCreate(
        source,
        `{ name: "x", modelProvider: OPENAI, auth: { apiKey: { apiKey: { value: ${q(plant(canary('apiKeyObject')).value)} } } } }`,
      ),
  },
  {
    name: 'settings given as a string (variables)',
    code: 'BAD_USER_INPUT',
    field: 'input.settings',
    run: (source) => createWith(source, { ...aCredentialInput(), settings: plant(canary('settingsString')).value }),
  },
  {
    name: 'settings given as a string (literal)',
    code: 'BAD_USER_INPUT',
    field: 'input.settings',
    run: (source) =>
      literalCreate(
        source,
        `{ name: "x", modelProvider: OPENAI, auth: { apiKey: { apiKey: "sk-0123456789" } }, settings: ${q(plant(canary('settingsLiteral')).value)} }`,
      ),
  },
  {
    name: 'a secret-like key in settings',
    code: 'BAD_USER_INPUT',
    field: 'input.settings.api_key',
    run: (source) => createWith(source, aCredentialInput({ settings: { api_key: plant(canary('settingsApiKey')).value } })),
  },
  {
    name: 'two auth members (variables)',
    code: 'BAD_USER_INPUT',
    field: 'input.auth',
    run: (source) =>
      createWith(source, {
        ...aCredentialInput({ modelProvider: 'BEDROCK' }),
        auth: {
          bedrockApiKey: { apiKey: plant(apiKeyCanary('oneOfApiKey')).value },
          awsKeys: {
            accessKeyId: plant(accessKeyIdCanary('oneOfAccessKeyId')).value,
            secretAccessKey: plant(canary('oneOfSecretAccessKey')).value,
          },
        },
      }),
  },
  {
    name: 'two auth members (literal)',
    code: 'BAD_USER_INPUT',
    field: 'input.auth',
    run: (source) =>
      literalCreate(
        source,
        `{ name: "x", modelProvider: BEDROCK, auth: { bedrockApiKey: { apiKey: ${q(plant(apiKeyCanary('oneOfLiteralApiKey')).value)} }, awsRole: { iamRoleArn: "arn:aws:iam::123456789012:role/x", externalId: ${q(plant(canary('oneOfLiteralExternalId')).value)} } } }`,
      ),
  },
  {
    name: 'an unknown modelProvider (variables)',
    code: 'BAD_USER_INPUT',
    field: 'input.modelProvider',
    run: (source) => createWith(source, { ...aCredentialInput(), modelProvider: plant(canary('enumVariable')).value }),
  },
  {
    name: 'an unknown modelProvider (literal)',
    code: 'BAD_USER_INPUT',
    field: 'input.modelProvider',
    run: (source) =>
      literalCreate(
        source,
        `{ name: "x", modelProvider: ${plant(nameCanary('enumLiteral')).value}, auth: { apiKey: { apiKey: "sk-0123456789" } } }`,
      ),
  },
  {
    name: 'an apiKey over 4 KiB',
    code: 'BAD_USER_INPUT',
    field: 'input.auth.apiKey.apiKey',
    run: (source) => createWith(source, aCredentialInput({ auth: { apiKey: { apiKey: plant(canary('apiKeyLong')).value.repeat(150) } } })),
  },
  {
    name: 'an apiKey with a space',
    code: 'BAD_USER_INPUT',
    field: 'input.auth.apiKey.apiKey',
    run: (source) => createWith(source, aCredentialInput({ auth: { apiKey: { apiKey: `${plant(canary('apiKeySpace')).value} tail` } } })),
  },
  {
    name: 'a secretAccessKey with a line break',
    code: 'BAD_USER_INPUT',
    field: 'input.auth.awsKeys.secretAccessKey',
    run: (source) =>
      createWith(
        source,
        aCredentialInput({
          modelProvider: 'BEDROCK',
          auth: { awsKeys: { accessKeyId: 'AKIAEXAMPLEEXAMPLE', secretAccessKey: `${plant(canary('secretAccessKeyBreak')).value}\n` } },
        }),
      ),
  },
  {
    name: 'an externalId over 1224 characters',
    code: 'BAD_USER_INPUT',
    field: 'input.auth.awsRole.externalId',
    run: (source) =>
      createWith(
        source,
        aCredentialInput({
          modelProvider: 'BEDROCK',
          auth: {
            awsRole: { iamRoleArn: 'arn:aws:iam::123456789012:role/x', externalId: plant(canary('externalIdLong')).value.repeat(40) },
          },
        }),
      ),
  },
  {
    name: 'a malformed role ARN',
    code: 'BAD_USER_INPUT',
    field: 'input.auth.awsRole.iamRoleArn',
    run: (source) =>
      createWith(
        source,
        aCredentialInput({
          modelProvider: 'BEDROCK',
          auth: { awsRole: { iamRoleArn: `arn:aws:iam::123:user/${plant(canary('roleArnBad')).value}`, externalId: 'ext-1234' } },
        }),
      ),
  },
  {
    name: 'a privateKey in PEM armour that does not parse',
    code: 'BAD_USER_INPUT',
    field: 'input.auth.googleServiceAccount.privateKey',
    run: (source) =>
      createWith(
        source,
        withPrivateKey(`-----BEGIN PRIVATE KEY-----\n${plant(canary('privateKeyGarbage')).value}\n-----END PRIVATE KEY-----\n`),
      ),
  },
  {
    name: 'a privateKey that is not PEM',
    code: 'BAD_USER_INPUT',
    field: 'input.auth.googleServiceAccount.privateKey',
    run: (source) => createWith(source, withPrivateKey(plant(canary('privateKeyRaw')).value)),
  },
  {
    name: 'an auth member the provider does not take',
    code: 'BAD_USER_INPUT',
    field: 'input.auth.awsKeys',
    run: (source) =>
      createWith(
        source,
        aCredentialInput({
          modelProvider: 'OPENAI',
          auth: { awsKeys: { accessKeyId: 'AKIAEXAMPLEEXAMPLE', secretAccessKey: plant(canary('wrongMember')).value } },
        }),
      ),
  },
  {
    name: 'a rotation expecting a stale version',
    code: 'CONFLICT',
    field: 'input.expectedSecretVersion',
    run: (source) =>
      send(
        source,
        UPDATE_CREDENTIAL,
        {
          id: credentials.get('API_KEY')!.credential.id,
          input: { auth: { apiKey: { apiKey: plant(apiKeyCanary('staleRotation')).value } }, expectedSecretVersion: 1 },
        },
        adminToken,
      ),
  },
  {
    name: 'a rotation onto a name already taken',
    code: 'CONFLICT',
    field: 'input.name',
    run: (source) =>
      send(
        source,
        UPDATE_CREDENTIAL,
        {
          id: credentials.get('API_KEY')!.credential.id,
          input: {
            name: credentials.get('AWS_ROLE')!.credential.name,
            auth: { apiKey: { apiKey: plant(apiKeyCanary('conflictRotation')).value } },
          },
        },
        adminToken,
      ),
  },
  {
    name: "a viewer's rotation",
    code: 'FORBIDDEN',
    run: (source) =>
      send(
        source,
        UPDATE_CREDENTIAL,
        {
          id: credentials.get('API_KEY')!.credential.id,
          input: { auth: { apiKey: { apiKey: plant(apiKeyCanary('viewerRotation')).value } } },
        },
        viewerToken,
      ),
  },
  {
    name: "a rotation of another organization's credential",
    code: 'NOT_FOUND',
    run: (source) =>
      send(
        source,
        UPDATE_CREDENTIAL,
        {
          id: credentials.get('AWS_KEYS')!.credential.id,
          input: { auth: { awsKeys: { accessKeyId: 'AKIAEXAMPLEEXAMPLE', secretAccessKey: plant(canary('foreignRotation')).value } } },
        },
        strangerToken,
      ),
  },
  {
    name: 'a create without a token',
    code: 'UNAUTHENTICATED',
    run: (source) =>
      anonymousCreate(source, aCredentialInput({ auth: { apiKey: { apiKey: plant(apiKeyCanary('anonymousCreate')).value } } })),
  },
  {
    name: 'a secret sent as the bearer token',
    code: 'UNAUTHENTICATED',
    run: (source) => send(source, LIST_CREDENTIALS, {}, plant(canary('bearer')).value),
  },
  {
    name: 'a malformed JSON body',
    code: 'BAD_REQUEST',
    run: (source) => {
      const body = `{"query": ${q(CREATE_CREDENTIAL)}, "variables": {"input": {"name": "x", "modelProvider": "OPENAI", "auth": {"apiKey": {"apiKey": "${plant(canary('malformedJson')).value}"`;
      return postRaw(source, body);
    },
  },
  {
    name: 'a JSON body of nothing but a string',
    code: 'BAD_REQUEST',
    run: (source) => {
      const body = q(plant(canary('bareString')).value);
      return postRaw(source, body);
    },
  },
  {
    name: 'a body over the size limit',
    code: 'BAD_REQUEST',
    run: (source) => {
      const filler = plant(canary('tooLarge'));
      const body = JSON.stringify({
        query: CREATE_CREDENTIAL,
        variables: { input: { ...aCredentialInput(), settings: { notes: Array(12_000).fill(filler.value) } } },
      });
      return postRaw(source, body);
    },
  },
  {
    name: 'a mutation sent with GET',
    code: 'BAD_REQUEST',
    run: (source) => {
      const url = `${vault.url}?${new URLSearchParams({
        query: CREATE_CREDENTIAL,
        variables: JSON.stringify({ input: aCredentialInput({ auth: { apiKey: { apiKey: plant(apiKeyCanary('getMutation')).value } } }) }),
      }).toString()}`;
      return sendRaw(
        source,
        url,
        { headers: { 'apollo-require-preflight': 'true', authorization: `Bearer ${adminToken}` } },
        decodeURIComponent(url),
      );
    },
  },
  {
    name: 'a document with a syntax error next to the secret',
    code: 'GRAPHQL_PARSE_FAILED',
    run: (source) =>
      literalCreate(source, `{ name: "x", modelProvider: OPENAI, auth: { apiKey: { apiKey ${q(plant(canary('syntaxError')).value)} } } }`),
  },
];

test.each(refusals.map((refusal) => [refusal.name, refusal] as const))(
  'a refused request with secrets in %s echoes none of them',
  async (name, refusal) => {
    const source = `refused: ${name}`;
    const before = await database.query<{ count: number }>('SELECT count(*)::int AS count FROM credentials');

    const response = await refusal.run(source);

    expect(findCanaries(planted, transcript.receivedBy(source))).toEqual([]);
    expect((response.body.errors ?? []).map((error) => ({ code: error.extensions?.code, field: error.extensions?.field }))).toEqual([
      { code: refusal.code, field: refusal.field },
    ]);
    expect(await database.query('SELECT count(*)::int AS count FROM credentials')).toEqual(before);
  },
);

/** Credentials created with an Idempotency-Key (beside those of `credentials` and the inline one). */
let keyedCreates = 0;

test('a create sent with an Idempotency-Key, its replay and a refused reuse of the key echo no secret, and the key stores only a hash', async () => {
  const key = anIdempotencyKey();
  const sendKeyed = (input: CreateCredentialInput) =>
    transcript.graphql<{ createCredential: CredentialView }>(
      vault,
      'keyed',
      CREATE_CREDENTIAL,
      { input },
      adminToken,
      withIdempotencyKey(key),
    );
  const input = aCredentialInput({
    modelProvider: 'BEDROCK',
    auth: {
      awsKeys: {
        accessKeyId: plant(accessKeyIdCanary('keyedAccessKeyId')).value,
        secretAccessKey: plant(canary('keyedSecretAccessKey')).value,
        sessionToken: plant(canary('keyedSessionToken')).value,
      },
    },
  });

  const created = dataOf(await sendKeyed(input)).createCredential;
  keyedCreates += 1;
  const replayed = dataOf(await sendKeyed(input)).createCredential;
  const reused = await sendKeyed(aCredentialInput({ auth: { apiKey: { apiKey: plant(apiKeyCanary('keyedReuse')).value } } }));

  expect(replayed.id).toBe(created.id);
  expect((reused.body.errors ?? []).map((error) => ({ code: error.extensions?.code, field: error.extensions?.field }))).toEqual([
    { code: 'BAD_USER_INPUT', field: 'Idempotency-Key' },
  ]);
  expect(findCanaries(planted, transcript.receivedBy('keyed'))).toEqual([]);
  expect(await storedIdempotencyKey(database, orgId, key)).toEqual({
    operation: 'createCredential',
    request_fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
    result_id: created.id,
  });
});

test('no log line carries a secret', () => {
  expect(vault.logLines.length).toBeGreaterThan(refusals.length);
  expect(findCanaries(planted, logHaystacks([vault]))).toEqual([]);
});

test('no table of the database carries a secret, as text, hex or base64', async () => {
  const dump = await dumpDatabase(database);

  expect(dump.filter((row) => row.source.includes('"credentials"'))).toHaveLength(credentials.size + 1 + keyedCreates);
  // The dump covers the idempotency keys, whose creates carried secrets.
  expect(dump.filter((row) => row.source.includes('"idempotency_keys"')).length).toBeGreaterThan(0);
  // The dump covers the sealed columns: the ciphertext of the API key is in it, as hex.
  const [{ ciphertext }] = await database.query<{ ciphertext: string }>(
    "SELECT encode(secret_ciphertext, 'hex') AS ciphertext FROM credentials WHERE id = $1",
    [credentials.get('API_KEY')!.credential.id],
  );
  expect(dump.some((row) => row.text.includes(ciphertext))).toBe(true);
  expect(findCanaries(planted, dump)).toEqual([]);
});

test('the scan can see the secrets: they open from the SecretStore and every one of them was sent', async () => {
  let sealedCount = 0;
  for (const [authType, { credential, sealed }] of credentials) {
    const secret = await openSecret(vault, orgId, credential.id);
    expect(secret).toMatchObject({ authType, secretVersion: 2 });
    const opened = { source: `opened ${authType}`, text: JSON.stringify(secret?.payload) };
    for (const canary of sealed) {
      expect(findCanaries([canary], [opened])).toContain(`${canary.label} (plain) in opened ${authType}`);
      sealedCount += 1;
    }
  }
  expect(sealedCount).toBe(12);

  const unsent = planted.filter((canary) => findCanaries([canary], transcript.sent).length === 0);
  expect(unsent.map((canary) => canary.label)).toEqual([]);

  // Each encoding the scans look for is recognised, and hex in upper case too.
  for (const encoding of ['hex', 'base64', 'base64url'] as const) {
    for (const canary of planted) {
      const exact = { source: encoding, text: `..${Buffer.from(canary.needle, 'utf8').toString(encoding)}..` };
      expect(findCanaries([canary], [exact])).not.toEqual([]);
    }
  }
  for (const canary of planted) {
    const upperHex = { source: 'hex', text: `..${Buffer.from(canary.needle, 'utf8').toString('hex').toUpperCase()}..` };
    expect(findCanaries([canary], [upperHex])).not.toEqual([]);
  }
});

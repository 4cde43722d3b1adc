// Write-only secrets through the REST door, checked from the outside: canary secrets go into every
// secret field of every auth type through REST creates, reads, rotations, validations and refused
// requests (under both mount points); then every REST response body and header, every log line
// and every table of the database is searched for them (as is, hex, base64), together with the
// credentials the fake STS and the fake Google issued during validations. The last test proves
// the search can see them: they open from the SecretStore and every one of them was sent.
import { randomUUID } from 'node:crypto';
import type { FakeSts } from '../fakes/fake-sts-server';
import { type FakeGoogleCloud, GOOGLE_TOKEN_URL } from '../fakes/fake-google-cloud';
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
  pemNeedle,
  privateKeyCanary,
  Transcript,
} from '../support/canaries';
import { type CloudFakes, issuedCredentials, startCloudFakes } from '../support/cloud-fakes';
import { hex, TEST_PROJECT_ID, uniqueName } from '../support/factories';
import { anIdempotencyKey, storedIdempotencyKey, withIdempotencyKey } from '../support/idempotency-keys';
import {
  type ConnectionJson,
  expectRestError,
  okBody,
  REST_PREFIXES,
  type RestClient,
  type RestPrefix,
  type RestResponse,
  restClient,
  type ValidationResultJson,
} from '../support/rest-client';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { openSecret } from '../support/vault-client';

const PROJECT = TEST_PROJECT_ID;
const ROLE_ARN = 'arn:aws:iam::123456789012:role/gateway-bedrock';

let database: TestDatabase;
let vault: TestApp;
let sts: FakeSts;
let google: FakeGoogleCloud;
let fakes: CloudFakes;
const orgId = randomUUID();
let adminToken: string;
let viewerToken: string;
let strangerToken: string;

/** Every canary sent anywhere. */
const planted: Canary[] = [];
/** Every REST request as sent and every response (headers and body), by the test that made it. */
const transcript = new Transcript();

function plant<T extends Canary>(value: T): T {
  planted.push(value);
  return value;
}

/** A REST client under `prefix` acting with `token` (none if null), recording its exchanges under `source`. */
function client(source: string, token: string | null, prefix: RestPrefix = REST_PREFIXES[0]): RestClient {
  return restClient(vault, {
    prefix,
    token: token ?? undefined,
    record: (exchange) => {
      transcript.sent.push({ source, text: `${exchange.method} ${exchange.url}\n${exchange.sent}` });
      transcript.received.push({ source, text: `${JSON.stringify(exchange.headers)}\n${exchange.text}` });
    },
  });
}

beforeAll(async () => {
  database = await createTestDatabase('rest_leak_scan');
  fakes = await startCloudFakes({ vertexProject: PROJECT, vertexApi: true });
  ({ sts, google } = fakes);
  vault = await startTestApp({ databaseUrl: database.url, env: fakes.env });
  adminToken = vault.token({ orgId });
  viewerToken = vault.token({ orgId, roles: ['viewer'] });
  strangerToken = vault.token({ orgId: randomUUID() });
});

afterAll(async () => {
  await vault?.stop();
  await fakes?.close();
  await database?.drop();
});

/** One planted canary for every secret field of every auth type. */
function secretSet(tag: string): SecretSet {
  const set = secretCanaries(tag);
  planted.push(...Object.values(set));
  return set;
}

interface AuthCase {
  authType: string;
  /** The body's auth fields: auth_type with api_key or credentials. */
  auth: Record<string, unknown>;
  modelProvider: string;
  /** The canaries the connection seals. */
  sealed: Canary[];
}

/** Per auth type, the REST auth fields built from the set. */
function authCases(set: SecretSet): AuthCase[] {
  return [
    { authType: 'api_key', modelProvider: 'openai', auth: { auth_type: 'api_key', api_key: set.apiKey.value }, sealed: [set.apiKey] },
    {
      authType: 'bedrock_api_key',
      modelProvider: 'bedrock',
      auth: { auth_type: 'bedrock_api_key', api_key: set.bedrockApiKey.value },
      sealed: [set.bedrockApiKey],
    },
    {
      authType: 'aws_role',
      modelProvider: 'bedrock',
      auth: { auth_type: 'aws_role', credentials: { iam_role_arn: set.iamRoleArn.value, external_id: set.externalId.value } },
      sealed: [set.iamRoleArn, set.externalId],
    },
    {
      authType: 'aws_keys',
      modelProvider: 'bedrock',
      auth: {
        auth_type: 'aws_keys',
        credentials: {
          access_key_id: set.accessKeyId.value,
          secret_access_key: set.secretAccessKey.value,
          session_token: set.sessionToken.value,
        },
      },
      sealed: [set.accessKeyId, set.secretAccessKey, set.sessionToken],
    },
    {
      authType: 'google_service_account',
      modelProvider: 'vertex',
      auth: {
        auth_type: 'google_service_account',
        credentials: {
          type: 'service_account',
          project_id: PROJECT,
          private_key_id: set.privateKeyId.value,
          private_key: set.privateKey.value,
          client_email: set.clientEmail.value,
          client_id: '104857600123456789012',
          auth_uri: 'https://accounts.google.com/o/oauth2/auth',
          token_uri: google.tokenUrl,
          auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
          universe_domain: 'googleapis.com',
        },
      },
      sealed: [set.privateKey, set.privateKeyId, set.clientEmail],
    },
    {
      authType: 'google_impersonation',
      modelProvider: 'vertex',
      auth: {
        auth_type: 'google_impersonation',
        credentials: { target_service_account: set.targetPrincipal.value, delegates: [set.delegate.value] },
      },
      sealed: [set.targetPrincipal, set.delegate],
    },
    {
      authType: 'google_adc',
      modelProvider: 'vertex',
      auth: { auth_type: 'google_adc', settings: { quota_project_id: 'vault-quota-project' } },
      sealed: [],
    },
  ];
}

/** The connections created, by auth type, with the canaries currently sealed in each and their ETag. */
const connections = new Map<string, { connection: ConnectionJson; sealed: Canary[]; etag: string }>();

test('creating a connection of every auth type over REST answers no secret, only key_last4', async () => {
  for (const [index, { authType, modelProvider, auth, sealed }] of authCases(secretSet('Created')).entries()) {
    const response = await client('create', adminToken, REST_PREFIXES[index % 2]).post<ConnectionJson>('/connections', {
      name: uniqueName(authType),
      model_provider: modelProvider,
      ...auth,
      change_note: `created ${authType}`,
    });
    const connection = okBody(response);
    expect(connection.auth_type).toBe(authType);
    connections.set(authType, { connection, sealed, etag: response.headers.get('etag') ?? '' });
  }

  expect(findCanaries(planted, transcript.receivedBy('create'))).toEqual([]);
  const apiKey = connections.get('api_key')!;
  expect(apiKey.connection.key_last4).toBe(apiKey.sealed[0].value.slice(-4));
});

test('reading, listing and the trust information of every connection answer no secret', async () => {
  for (const prefix of REST_PREFIXES) {
    for (const token of [adminToken, viewerToken]) {
      const reader = client('read', token, prefix);
      okBody(await reader.get('/connections'));
      for (const { connection } of connections.values()) okBody(await reader.get(`/connections/${connection.id}`));
      okBody(await reader.get(`/connections/${connections.get('aws_role')!.connection.id}/aws-trust-info`));
      okBody(await reader.get('/connections/aws-role-config'));
    }
  }

  expect(transcript.receivedBy('read').length).toBe(2 * 2 * (connections.size + 3));
  expect(findCanaries(planted, transcript.receivedBy('read'))).toEqual([]);
});

test('rotating every secret over REST (with If-Match) answers no secret', async () => {
  for (const [index, { authType, auth, sealed }] of authCases(secretSet('Rotated')).entries()) {
    const current = connections.get(authType)!;
    const response = await client('rotate', adminToken, REST_PREFIXES[index % 2]).put<ConnectionJson>(
      `/connections/${current.connection.id}`,
      { ...auth, change_note: `rotated ${authType}` },
      { headers: { 'if-match': current.etag } },
    );
    const rotated = okBody(response);
    expect(rotated.auth_type).toBe(authType);
    connections.set(authType, { connection: rotated, sealed, etag: response.headers.get('etag') ?? '' });
  }

  expect(findCanaries(planted, transcript.receivedBy('rotate'))).toEqual([]);
});

test('validations with inline secrets and stored connections answer no secret and no issued credential', async () => {
  const externalId = plant(canary('validateExternalId'));
  const roleArn = `arn:aws:iam::123456789012:role/vault-validate-${hex(4)}`;
  sts.addRole({ arn: roleArn, externalId: externalId.value });
  const account = google.createServiceAccount(`sa-${hex(4)}@${PROJECT}.iam.gserviceaccount.com`, PROJECT);
  google.grantVertex(account.clientEmail, PROJECT);
  const accountKey = plant(pemNeedle('validatePrivateKey', account.privateKeyPem));
  const validator = (prefix: RestPrefix) => client('validate', adminToken, prefix);
  const stored = okBody(
    await validator(REST_PREFIXES[0]).post<ConnectionJson>('/connections', {
      name: uniqueName('validated-role'),
      model_provider: 'bedrock',
      auth_type: 'aws_role',
      credentials: { iam_role_arn: roleArn, external_id: externalId.value },
    }),
  );
  const storedKey = okBody(
    await validator(REST_PREFIXES[1]).post<ConnectionJson>('/connections', {
      name: uniqueName('validated-key'),
      model_provider: 'vertex',
      auth_type: 'google_service_account',
      credentials: account.keyFile(google.tokenUrl),
    }),
  );

  const results: ValidationResultJson[] = [];
  for (const prefix of REST_PREFIXES) {
    const validate = (path: string, body: Record<string, unknown>) => validator(prefix).post<ValidationResultJson>(path, body);
    results.push(
      okBody(
        await validate('/connections/aws-role-validate', { region: 'us-east-1', iam_role_arn: roleArn, external_id: externalId.value }),
      ),
      okBody(
        await validate('/connections/aws-role-validate', {
          region: 'us-east-1',
          iam_role_arn: roleArn,
          external_id: plant(canary('validateWrongExternalId')).value,
        }),
      ),
      okBody(await validate('/connections/aws-role-validate', { connection_id: stored.id })),
      okBody(
        await validate('/connections/google-vertex-validate', {
          project_id: PROJECT,
          location: 'us-central1',
          auth_type: 'google_service_account',
          credentials: account.keyFile(google.tokenUrl),
        }),
      ),
      okBody(
        await validate('/connections/google-vertex-validate', {
          project_id: PROJECT,
          location: 'us-central1',
          connection_id: storedKey.id,
        }),
      ),
      okBody(await validate('/connections/google-vertex-validate', { project_id: PROJECT, location: 'us-central1' })),
    );
  }

  expect(results.map((result) => result.ok)).toEqual([true, false, true, true, true, true, true, false, true, true, true, true]);
  const issued = issuedCredentials(fakes);
  expect(issued.length).toBeGreaterThanOrEqual(8);
  expect(findCanaries([...planted, ...issued], transcript.receivedBy('validate'))).toEqual([]);
  expect(findCanaries([accountKey], transcript.sent)).not.toEqual([]);
});

test('a create sent with an Idempotency-Key, its replay and a refused reuse of the key (422) answer no secret, and the key stores only a hash', async () => {
  const key = anIdempotencyKey();
  const headers = withIdempotencyKey(key);
  const body = {
    name: uniqueName('keyed'),
    model_provider: 'bedrock',
    auth_type: 'aws_keys',
    credentials: {
      access_key_id: plant(accessKeyIdCanary('keyedAccessKeyId')).value,
      secret_access_key: plant(canary('keyedSecretAccessKey')).value,
      session_token: plant(canary('keyedSessionToken')).value,
    },
  };

  const created = okBody(await client('keyed', adminToken).post<ConnectionJson>('/connections', body, { headers }));
  const replayed = okBody(await client('keyed', adminToken, REST_PREFIXES[1]).post<ConnectionJson>('/connections', body, { headers }));
  const reused = await client('keyed', adminToken).post(
    '/connections',
    { name: uniqueName('keyed'), model_provider: 'openai', api_key: plant(apiKeyCanary('keyedReuse')).value },
    { headers },
  );

  expect(replayed.id).toBe(created.id);
  expectRestError(reused, { status: 422, type: 'invalid_request_error', param: 'Idempotency-Key' });
  expect(findCanaries(planted, transcript.receivedBy('keyed'))).toEqual([]);
  expect(await storedIdempotencyKey(database, orgId, key)).toEqual({
    operation: 'createCredential',
    request_fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
    result_id: created.id,
  });
});

/** The envelope's type for each status the contract names. */
const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  405: 'invalid_request_error',
  409: 'conflict_error',
  412: 'conflict_error',
  413: 'invalid_request_error',
  415: 'invalid_request_error',
};

interface Refusal {
  name: string;
  status: number;
  run(source: string): Promise<RestResponse<unknown>>;
}

const admin = (source: string, prefix?: RestPrefix) => client(source, adminToken, prefix);
/** A Vertex key-file body whose private key is `privateKey`. */
const withPrivateKey = (privateKey: string, tokenUri: string = google.tokenUrl) => ({
  name: uniqueName('vertex'),
  model_provider: 'vertex',
  auth_type: 'google_service_account',
  credentials: {
    type: 'service_account',
    project_id: PROJECT,
    private_key_id: 'abc123',
    private_key: privateKey,
    client_email: 'vault@vault-test-project.iam.gserviceaccount.com',
    token_uri: tokenUri,
  },
});
const openAi = (apiKey: string) => ({ name: uniqueName('openai'), model_provider: 'openai', api_key: apiKey });
const connectionPath = (authType: string) => `/connections/${connections.get(authType)!.connection.id}`;

const refusals: Refusal[] = [
  {
    name: 'a malformed JSON body',
    status: 400,
    run: (source) =>
      admin(source).request('POST', '/connections', {
        rawBody: `{"name": "x", "model_provider": "openai", "api_key": "${plant(apiKeyCanary('malformedJson')).value}`,
      }),
  },
  {
    name: 'a JSON body of nothing but a string',
    status: 400,
    run: (source) => admin(source).request('POST', '/connections', { rawBody: JSON.stringify(plant(canary('bareString')).value) }),
  },
  {
    name: 'a body that is not application/json',
    status: 415,
    run: (source) =>
      admin(source, REST_PREFIXES[1]).request('POST', '/connections', {
        rawBody: JSON.stringify(openAi(plant(apiKeyCanary('textPlain')).value)),
        contentType: 'text/plain',
      }),
  },
  {
    name: 'a body over 256 KiB',
    status: 413,
    run: (source) =>
      admin(source).post('/connections', {
        ...openAi(plant(apiKeyCanary('tooLargeKey')).value),
        settings: { notes: Array(12_000).fill(plant(canary('tooLarge')).value) },
      }),
  },
  {
    name: 'an unknown top-level field',
    status: 400,
    run: (source) =>
      admin(source).post('/connections', {
        ...openAi(plant(apiKeyCanary('unknownFieldKey')).value),
        secret: plant(canary('unknownField')).value,
      }),
  },
  {
    name: 'an unknown key inside aws_role credentials',
    status: 400,
    run: (source) =>
      admin(source, REST_PREFIXES[1]).post('/connections', {
        name: uniqueName('bedrock'),
        model_provider: 'bedrock',
        auth_type: 'aws_role',
        credentials: {
          iam_role_arn: ROLE_ARN,
          external_id: plant(canary('unknownKeyExternalId')).value,
          secret_access_key: plant(canary('unknownKey')).value,
        },
      }),
  },
  {
    name: 'credentials given as a string',
    status: 400,
    run: (source) =>
      admin(source).post('/connections', {
        name: uniqueName('bedrock'),
        model_provider: 'bedrock',
        auth_type: 'aws_keys',
        credentials: plant(canary('credentialsString')).value,
      }),
  },
  {
    name: 'an api_key given as a list',
    status: 400,
    run: (source) => admin(source).post('/connections', { ...openAi('x'), api_key: [plant(apiKeyCanary('apiKeyList')).value] }),
  },
  {
    name: 'a secret-like key in settings',
    status: 400,
    run: (source) =>
      admin(source).post('/connections', {
        ...openAi(plant(apiKeyCanary('settingsKeyKey')).value),
        settings: { api_key: plant(canary('settingsApiKey')).value },
      }),
  },
  {
    name: 'an api_key with a space',
    status: 400,
    run: (source) => admin(source, REST_PREFIXES[1]).post('/connections', openAi(`${plant(apiKeyCanary('apiKeySpace')).value} tail`)),
  },
  {
    name: 'an api_key over 4 KiB',
    status: 400,
    run: (source) => admin(source).post('/connections', openAi(plant(canary('apiKeyLong')).value.repeat(150))),
  },
  {
    name: 'a secret_access_key with a line break',
    status: 400,
    run: (source) =>
      admin(source).post('/connections', {
        name: uniqueName('bedrock'),
        model_provider: 'bedrock',
        auth_type: 'aws_keys',
        credentials: { access_key_id: 'AKIAEXAMPLEEXAMPLE', secret_access_key: `${plant(canary('secretAccessKeyBreak')).value}\n` },
      }),
  },
  {
    name: 'an external_id over 1224 characters',
    status: 400,
    run: (source) =>
      admin(source).post('/connections', {
        name: uniqueName('bedrock'),
        model_provider: 'bedrock',
        auth_type: 'aws_role',
        credentials: { iam_role_arn: ROLE_ARN, external_id: plant(canary('externalIdLong')).value.repeat(40) },
      }),
  },
  {
    name: 'a malformed role ARN beside an external_id',
    status: 400,
    run: (source) =>
      admin(source).post('/connections', {
        name: uniqueName('bedrock'),
        model_provider: 'bedrock',
        auth_type: 'aws_role',
        credentials: {
          iam_role_arn: `arn:aws:iam::123:user/${plant(canary('roleArnBad')).value}`,
          external_id: plant(canary('roleArnBadExternalId')).value,
        },
      }),
  },
  {
    name: 'a private key in PEM armour that does not parse',
    status: 400,
    run: (source) =>
      admin(source).post(
        '/connections',
        withPrivateKey(`-----BEGIN PRIVATE KEY-----\n${plant(canary('privateKeyGarbage')).value}\n-----END PRIVATE KEY-----\n`),
      ),
  },
  {
    name: 'a key file whose token_uri is not the configured one, with a real private key',
    status: 400,
    run: (source) =>
      admin(source, REST_PREFIXES[1]).post('/connections', withPrivateKey(plant(privateKeyCanary('tokenUriKey')).value, GOOGLE_TOKEN_URL)),
  },
  {
    name: 'api_key for an auth type that takes credentials',
    status: 400,
    run: (source) =>
      admin(source).post('/connections', {
        name: uniqueName('bedrock'),
        model_provider: 'bedrock',
        auth_type: 'aws_keys',
        api_key: plant(apiKeyCanary('wrongMember')).value,
      }),
  },
  {
    name: 'a rotation with a stale If-Match',
    status: 412,
    run: (source) =>
      admin(source).put(
        connectionPath('api_key'),
        { api_key: plant(apiKeyCanary('staleRotation')).value },
        { headers: { 'if-match': '"1"' } },
      ),
  },
  {
    name: 'a rotation onto a name already taken',
    status: 409,
    run: (source) =>
      admin(source).put(connectionPath('api_key'), {
        name: connections.get('aws_role')!.connection.name,
        api_key: plant(apiKeyCanary('conflictRotation')).value,
      }),
  },
  {
    name: "a viewer's rotation",
    status: 403,
    run: (source) => client(source, viewerToken).put(connectionPath('api_key'), { api_key: plant(apiKeyCanary('viewerRotation')).value }),
  },
  {
    name: "a rotation of another organization's connection",
    status: 404,
    run: (source) =>
      client(source, strangerToken, REST_PREFIXES[1]).put(connectionPath('aws_keys'), {
        credentials: { access_key_id: 'AKIAEXAMPLEEXAMPLE', secret_access_key: plant(canary('foreignRotation')).value },
      }),
  },
  {
    name: 'a rotation of an id that is not a UUID',
    status: 404,
    run: (source) => admin(source).put('/connections/not-a-uuid', { api_key: plant(apiKeyCanary('nonUuidRotation')).value }),
  },
  {
    name: 'a create without a token',
    status: 401,
    run: (source) => client(source, null).post('/connections', openAi(plant(apiKeyCanary('anonymousCreate')).value)),
  },
  {
    name: 'a secret sent as the bearer token',
    status: 401,
    run: (source) => client(source, plant(canary('bearer')).value).get('/connections'),
  },
  {
    name: 'a secret in a PATCH body (405)',
    status: 405,
    run: (source) =>
      admin(source).request('PATCH', connectionPath('api_key'), { body: { api_key: plant(apiKeyCanary('patchKey')).value } }),
  },
  {
    name: 'a secret posted to an unknown route (404)',
    status: 404,
    run: (source) => admin(source).post('/credentials', openAi(plant(apiKeyCanary('unknownRoute')).value)),
  },
  {
    name: 'aws-role-validate without region',
    status: 400,
    run: (source) =>
      admin(source).post('/connections/aws-role-validate', {
        iam_role_arn: ROLE_ARN,
        external_id: plant(canary('validateNoRegion')).value,
      }),
  },
  {
    name: 'aws-role-validate with connection_id beside an external_id',
    status: 400,
    run: (source) =>
      admin(source, REST_PREFIXES[1]).post('/connections/aws-role-validate', {
        connection_id: connections.get('aws_role')!.connection.id,
        external_id: plant(canary('validateBeside')).value,
      }),
  },
  {
    name: 'aws-role-validate with an external_id over 1224 characters',
    status: 400,
    run: (source) =>
      admin(source).post('/connections/aws-role-validate', {
        region: 'us-east-1',
        iam_role_arn: ROLE_ARN,
        external_id: plant(canary('validateLong')).value.repeat(40),
      }),
  },
  {
    name: 'google-vertex-validate with a private key that does not parse',
    status: 400,
    run: (source) =>
      admin(source).post('/connections/google-vertex-validate', {
        project_id: PROJECT,
        location: 'us-central1',
        auth_type: 'google_service_account',
        credentials: withPrivateKey(`-----BEGIN PRIVATE KEY-----\n${plant(canary('validateGarbage')).value}\n-----END PRIVATE KEY-----\n`)
          .credentials,
      }),
  },
  {
    name: 'google-vertex-validate with a key file whose token_uri is not the configured one',
    status: 400,
    run: (source) =>
      admin(source, REST_PREFIXES[1]).post('/connections/google-vertex-validate', {
        project_id: PROJECT,
        location: 'us-central1',
        auth_type: 'google_service_account',
        credentials: withPrivateKey(plant(privateKeyCanary('validateTokenUri')).value, GOOGLE_TOKEN_URL).credentials,
      }),
  },
  {
    // The key file's own project_id stands in for a missing project_id: without both, a 400.
    name: 'google-vertex-validate without project_id, with a key file that names no project',
    status: 400,
    run: (source) => {
      const { project_id: _project, ...credentials } = withPrivateKey(plant(privateKeyCanary('validateNoProject')).value).credentials;
      return admin(source).post('/connections/google-vertex-validate', {
        location: 'us-central1',
        auth_type: 'google_service_account',
        credentials,
      });
    },
  },
];

test.each(refusals.map((refusal) => [refusal.name, refusal] as const))(
  'a refused request with secrets in %s answers none of them',
  async (name, refusal) => {
    const source = `refused: ${name}`;
    const before = await database.query<{ count: number; revisions: number }>(
      'SELECT count(*)::int AS count, coalesce(sum(revision), 0)::int AS revisions FROM credentials',
    );

    const response = await refusal.run(source);

    expect(findCanaries(planted, transcript.receivedBy(source))).toEqual([]);
    expectRestError(response, { status: refusal.status, type: ERROR_TYPES[refusal.status] });
    expect(await database.query('SELECT count(*)::int AS count, coalesce(sum(revision), 0)::int AS revisions FROM credentials')).toEqual(
      before,
    );
  },
);

test('no log line carries a secret or an issued credential', () => {
  expect(vault.logLines.length).toBeGreaterThan(refusals.length);
  expect(findCanaries([...planted, ...issuedCredentials(fakes)], logHaystacks([vault]))).toEqual([]);
});

test('no table of the database carries a secret, as text, hex or base64', async () => {
  const dump = await dumpDatabase(database);

  // The dump covers the sealed columns: the ciphertext of the API key is in it, as hex.
  const [{ ciphertext }] = await database.query<{ ciphertext: string }>(
    "SELECT encode(secret_ciphertext, 'hex') AS ciphertext FROM credentials WHERE id = $1",
    [connections.get('api_key')!.connection.id],
  );
  expect(dump.some((row) => row.text.includes(ciphertext))).toBe(true);
  // The dump covers the idempotency keys, whose creates carried secrets.
  expect(dump.filter((row) => row.source.includes('"idempotency_keys"')).length).toBeGreaterThan(0);
  expect(findCanaries([...planted, ...issuedCredentials(fakes)], dump)).toEqual([]);
});

test('the scan can see the secrets: they open from the SecretStore and every one of them was sent', async () => {
  let sealedCount = 0;
  for (const [authType, { connection, sealed }] of connections) {
    const secret = await openSecret(vault, orgId, connection.id);
    const opened = { source: `opened ${authType}`, text: JSON.stringify(secret?.payload) };
    for (const sealedCanary of sealed) {
      expect(findCanaries([sealedCanary], [opened])).toContain(`${sealedCanary.label} (plain) in opened ${authType}`);
      sealedCount += 1;
    }
  }
  expect(sealedCount).toBe(12);

  const unsent = planted.filter((sent) => findCanaries([sent], transcript.sent).length === 0);
  expect(unsent.map((sent) => sent.label)).toEqual([]);
  // The issued credentials were real: the fakes handed them to this service.
  expect(issuedCredentials(fakes).length).toBeGreaterThan(0);
});

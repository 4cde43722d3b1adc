// The runtime route end to end: the real application over HTTP and PostgreSQL, its runtime
// listener answering POST /v1/upstream-auth for runtime tokens, its real STSClient talking SigV4 to
// the fake STS (AssumeRole signed with this process's AWS identity, GetSessionToken signed with a
// stored key pair) and its real google-auth-library clients talking to the fake Google Cloud (token
// endpoint, IAM Credentials; this service's own ADC is a service-account key file). Every auth type,
// by provider and by credential; minted credentials cached per (credential, secret version) with
// one upstream call under a burst; rotations seen at once, and by a second replica as soon as it
// hears of them; warm resolves answered from memory, without a database statement; org isolation;
// STS and Google failures as 502 UPSTREAM_AUTH_FAILED; lastUsedAt and the audit line.
import type { FakeGoogleCloud, FakeServiceAccount } from '../fakes/fake-google-cloud';
import type { FakeSts, FakeStsIssued, FakeStsKeyPair } from '../fakes/fake-sts-server';
import { type CloudFakes, serviceAccountAuth, startCloudFakes } from '../support/cloud-fakes';
import {
  aCredentialInput,
  anApiKey,
  apiKeyAuth,
  bedrockApiKeyAuth,
  type CredentialAuthInput,
  hex,
  type ModelProvider,
  rsaPrivateKeyPem,
  TEST_PROJECT_ID,
} from '../support/factories';
import { anOrganization, type Member } from '../support/organizations';
import { aProviderInput } from '../support/provider-client';
import { type ConnectionJson, okBody, restClient } from '../support/rest-client';
import {
  expectRuntimeError,
  materialOf,
  runtimeClient,
  type RuntimeClient,
  runtimeUrlOf,
  type UpstreamAuthJson,
} from '../support/runtime-client';
import { sleep } from '../support/sleep';
import { fetchJson, logEvents, startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { type CredentialView, dataOf } from '../support/vault-client';

/** The fake STS accepts requests signed for this region only: credentials name it in settings.region. */
const STS_REGION = 'eu-west-1';
/** AWS_REGION of the application: deliberately another region, so an answer's region can only come from settings. */
const APP_REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const HOST_PROJECT = 'vault-host-project';

let database: TestDatabase;
let sts: FakeSts;
let google: FakeGoogleCloud;
let vault: TestApp;
/** This service's own Google identity (ADC). */
let adcAccount: FakeServiceAccount;
let fakes: CloudFakes;

/** `dataDir`: a replica shares the first application's key ring (the development key service lives there). */
async function startApp(dataDir?: string): Promise<TestApp> {
  return startTestApp({ databaseUrl: database.url, dataDir, env: fakes.env });
}

beforeAll(async () => {
  database = await createTestDatabase('runtime_e2e');
  fakes = await startCloudFakes({ stsRegion: STS_REGION, appRegion: APP_REGION, hostProject: HOST_PROJECT });
  ({ sts, google, adcAccount } = fakes);
  vault = await startApp();
});

afterAll(async () => {
  await vault?.stop();
  await fakes?.close();
  await database?.drop();
});

afterEach(() => {
  sts.clearFailures();
  sts.setLatency(0);
  google.setLatency(0);
});

interface Org {
  id: string;
  admin: Member;
  runtime: RuntimeClient;
}

/** A brand-new organization: its admin (GraphQL) and its gateway data plane (runtime token). */
function anOrg(app: TestApp = vault): Org {
  const org = anOrganization(app);
  return { id: org.id, admin: org.admin, runtime: runtimeClient(app, org.id) };
}

async function created(admin: Member, modelProvider: ModelProvider, auth: CredentialAuthInput, settings?: Record<string, unknown>) {
  return admin.created(aCredentialInput({ modelProvider, auth, ...(settings ? { settings } : {}) }));
}

interface Role {
  iamRoleArn: string;
  externalId: string;
}

/** A role the fake STS knows, trusting this service's caller with its external id. */
function aRole(): Role {
  const role = { iamRoleArn: `arn:aws:iam::${ACCOUNT}:role/gateway-bedrock-${hex(4)}`, externalId: `ext-${hex(8)}` };
  sts.addRole({ arn: role.iamRoleArn, externalId: role.externalId });
  return role;
}

function storedAwsRole(admin: Member, role: Role = aRole()): Promise<CredentialView> {
  return created(admin, 'BEDROCK', { awsRole: role }, { region: STS_REGION });
}

function storedAwsKeys(admin: Member, keys: FakeStsKeyPair = sts.createUserKeys()): Promise<CredentialView> {
  return created(
    admin,
    'BEDROCK',
    { awsKeys: { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey } },
    { region: STS_REGION },
  );
}

function aServiceAccount(): FakeServiceAccount {
  return google.createServiceAccount(`sa-${hex(4)}@${TEST_PROJECT_ID}.iam.gserviceaccount.com`, TEST_PROJECT_ID);
}

/** An impersonation target this service's ADC identity may mint tokens for. */
function aTarget(): FakeServiceAccount {
  const target = aServiceAccount();
  google.grantTokenCreator(adcAccount.clientEmail, target.clientEmail);
  return target;
}

/** What the fake STS issued under this access key id; fails the test when it issued nothing such. */
function issuedAs(accessKeyId: string): FakeStsIssued {
  const found = sts.issued.filter((issued) => issued.accessKeyId === accessKeyId);
  expect(found.map((issued) => issued.accessKeyId)).toEqual([accessKeyId]);
  return found[0];
}

/** Requests the fake Google received per service since `mark` (an index into its request log). */
function googleCallsSince(mark: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const request of google.requests.slice(mark)) counts[request.service] = (counts[request.service] ?? 0) + 1;
  return counts;
}

const API_KEY_HEADERS: Array<[ModelProvider, 'apiKey' | 'bedrockApiKey', (key: string) => Record<string, string>]> = [
  ['OPENAI', 'apiKey', (key) => ({ authorization: `Bearer ${key}` })],
  ['ANTHROPIC', 'apiKey', (key) => ({ 'x-api-key': key, 'anthropic-version': '2023-06-01' })],
  ['AZURE_OPENAI', 'apiKey', (key) => ({ 'api-key': key })],
  ['GOOGLE_AI', 'apiKey', (key) => ({ 'x-goog-api-key': key })],
  ['MISTRAL', 'apiKey', (key) => ({ authorization: `Bearer ${key}` })],
  ['BEDROCK', 'bedrockApiKey', (key) => ({ authorization: `Bearer ${key}` })],
];

describe('API keys become the headers the vendor expects', () => {
  test.each(API_KEY_HEADERS)('%s %s: by credential_id and by provider_id', async (modelProvider, member, headersOf) => {
    const org = anOrg();
    const apiKey = member === 'apiKey' ? anApiKey() : `ABSK${hex(24)}`;
    const auth = member === 'apiKey' ? apiKeyAuth(apiKey) : bedrockApiKeyAuth(apiKey);
    const credential = await created(org.admin, modelProvider, auth);
    const provider = await org.admin.providers.created(aProviderInput(credential.id, { modelProvider }));

    const byCredential = await org.runtime.credential(credential.id);
    const byProvider = await org.runtime.provider(provider.id);

    const expected = {
      credential_id: credential.id,
      model_provider: modelProvider.toLowerCase(),
      auth_type: member === 'apiKey' ? 'api_key' : 'bedrock_api_key',
      base_url: credential.baseUrl,
      settings: credential.settings,
      secret_version: 1,
      expires_at: null,
      headers: headersOf(apiKey),
    };
    expect(byCredential).toEqual({ ...expected, provider_id: null });
    expect(byProvider).toEqual({ ...expected, provider_id: provider.id });
    expect(materialOf(byCredential)).toBe('headers');
    expect(materialOf(byProvider)).toBe('headers');
  });

  test('answers with Cache-Control: no-store, JSON, no ETag and no CORS header', async () => {
    const org = anOrg();
    const credential = await created(org.admin, 'OPENAI', apiKeyAuth());
    const response = await org.runtime.request({ credential_id: credential.id }, { headers: { origin: 'https://evil.example' } });

    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-type')).toMatch(/^application\/json\b/);
    expect(response.headers.get('etag')).toBeNull();
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('a provider with oauth_passthrough answers oauth_passthrough: true and no material', async () => {
    const org = anOrg();
    const provider = await org.admin.providers.created({
      name: `claude-oauth-${hex(3)}`,
      modelProvider: 'ANTHROPIC',
      oauthPassthrough: true,
    });

    const answer = await org.runtime.provider(provider.id);

    expect(answer).toEqual({
      credential_id: null,
      provider_id: provider.id,
      model_provider: 'anthropic',
      auth_type: 'oauth_passthrough',
      base_url: 'https://api.anthropic.com',
      settings: provider.settings,
      secret_version: null,
      expires_at: null,
      oauth_passthrough: true,
    });
    expect(materialOf(answer)).toBe('oauth_passthrough');
  });
});

describe('AWS identities become short-lived STS credentials', () => {
  test('aws_role: AssumeRole with the stored role and external id, signed by this service; ASIA keys, expiration and region from settings', async () => {
    const org = anOrg();
    const role = aRole();
    const credential = await storedAwsRole(org.admin, role);
    const provider = await org.admin.providers.created(aProviderInput(credential.id, { modelProvider: 'BEDROCK' }));
    const mark = sts.requests.length;
    const exchangesMark = sts.exchanges.length;

    const answer = await org.runtime.provider(provider.id);

    expect(materialOf(answer)).toBe('aws');
    const aws = answer.aws!;
    expect(aws.access_key_id).toMatch(/^ASIA/);
    const issued = issuedAs(aws.access_key_id);
    expect(issued.action).toBe('AssumeRole');
    expect(issued.issuedTo).toBe(sts.caller.accessKeyId);
    expect(aws).toEqual({
      access_key_id: issued.accessKeyId,
      secret_access_key: issued.secretAccessKey,
      session_token: issued.sessionToken,
      expiration: issued.expiration.toISOString(),
      region: STS_REGION,
    });
    expect(answer).toMatchObject({
      credential_id: credential.id,
      provider_id: provider.id,
      model_provider: 'bedrock',
      auth_type: 'aws_role',
      base_url: `https://bedrock-runtime.${STS_REGION}.amazonaws.com`,
      secret_version: 1,
      expires_at: issued.expiration.toISOString(),
    });
    expect(sts.requests.slice(mark)).toEqual([
      expect.objectContaining({ Action: 'AssumeRole', RoleArn: role.iamRoleArn, ExternalId: role.externalId }),
    ]);
    expect(sts.exchanges.slice(exchangesMark).map((exchange) => [exchange.action, exchange.accessKeyId, exchange.status])).toEqual([
      ['AssumeRole', sts.caller.accessKeyId, 200],
    ]);
  });

  test('aws_keys: GetSessionToken signed with the stored pair; the long-lived pair is never in the answer', async () => {
    const org = anOrg();
    const keys = sts.createUserKeys();
    const credential = await storedAwsKeys(org.admin, keys);
    const mark = sts.exchanges.length;

    const response = await org.runtime.request({ credential_id: credential.id });

    expect(response.status).toBe(200);
    const answer = response.body;
    expect(materialOf(answer)).toBe('aws');
    const issued = issuedAs(answer.aws!.access_key_id);
    expect(issued).toMatchObject({ action: 'GetSessionToken', issuedTo: keys.accessKeyId });
    expect(answer.aws).toEqual({
      access_key_id: issued.accessKeyId,
      secret_access_key: issued.secretAccessKey,
      session_token: issued.sessionToken,
      expiration: issued.expiration.toISOString(),
      region: STS_REGION,
    });
    expect(answer).toMatchObject({ auth_type: 'aws_keys', expires_at: issued.expiration.toISOString(), provider_id: null });
    expect(sts.exchanges.slice(mark).map((exchange) => [exchange.action, exchange.accessKeyId, exchange.status])).toEqual([
      ['GetSessionToken', keys.accessKeyId, 200],
    ]);
    expect(response.text).not.toContain(keys.secretAccessKey);
    expect(response.text).not.toContain(keys.accessKeyId);
  });

  test('aws_keys holding a temporary pair (with a session token) hands it out as stored, without calling STS', async () => {
    const org = anOrg();
    const stored = { accessKeyId: `ASIA${hex(8).toUpperCase()}`, secretAccessKey: `secret-${hex(16)}`, sessionToken: `token-${hex(24)}` };
    const credential = await created(org.admin, 'BEDROCK', { awsKeys: stored }, { region: STS_REGION });
    const before = { ...sts.calls };

    const answer = await org.runtime.credential(credential.id);

    expect(materialOf(answer)).toBe('aws');
    expect(answer.aws).toMatchObject({
      access_key_id: stored.accessKeyId,
      secret_access_key: stored.secretAccessKey,
      session_token: stored.sessionToken,
      region: STS_REGION,
    });
    expect(sts.calls).toEqual(before);
  });
});

describe('Google identities become access tokens issued by Google', () => {
  function expectGoogleToken(answer: UpstreamAuthJson, principal: string, authType: string) {
    expect(materialOf(answer)).toBe('google');
    const token = answer.google!.access_token;
    expect(google.issuedTokens).toContain(token);
    expect(google.principalOf(token)).toBe(principal);
    expect(answer.auth_type).toBe(authType);
    expect(answer.model_provider).toBe('vertex');
    expect(answer.expires_at).toBe(answer.google!.expires_at);
    expect(Date.parse(answer.google!.expires_at)).toBeGreaterThan(Date.now());
  }

  test('google_service_account: a JWT grant with the stored key, by credential_id and by provider_id', async () => {
    const org = anOrg();
    const account = aServiceAccount();
    const credential = await created(org.admin, 'VERTEX', serviceAccountAuth(account));
    const provider = await org.admin.providers.created(aProviderInput(credential.id, { modelProvider: 'VERTEX' }));

    const byCredential = await org.runtime.credential(credential.id);
    const byProvider = await org.runtime.provider(provider.id);

    expectGoogleToken(byCredential, account.clientEmail, 'google_service_account');
    expectGoogleToken(byProvider, account.clientEmail, 'google_service_account');
    expect(byCredential).toMatchObject({
      credential_id: credential.id,
      provider_id: null,
      base_url: credential.baseUrl,
      secret_version: 1,
    });
    expect(byProvider).toMatchObject({ credential_id: credential.id, provider_id: provider.id });
  });

  test('google_impersonation: this service impersonates the target through IAM Credentials', async () => {
    const org = anOrg();
    const target = aTarget();
    const credential = await created(org.admin, 'VERTEX', { googleImpersonation: { targetPrincipal: target.clientEmail } });
    const mark = google.requests.length;

    const answer = await org.runtime.credential(credential.id);

    expectGoogleToken(answer, target.clientEmail, 'google_impersonation');
    expect(googleCallsSince(mark)).toEqual({ oauth2: 1, iamcredentials: 1 });
  });

  test("google_adc: a token of this service's own identity", async () => {
    const org = anOrg();
    const credential = await created(org.admin, 'VERTEX', { googleAdc: {} });

    const answer = await org.runtime.credential(credential.id);

    expectGoogleToken(answer, adcAccount.clientEmail, 'google_adc');
  });
});

describe('minted credentials are cached, one upstream call per burst', () => {
  const BURST = 50;

  async function burst(resolve: () => Promise<UpstreamAuthJson>): Promise<UpstreamAuthJson[]> {
    return Promise.all(Array.from({ length: BURST }, resolve));
  }

  test('50 concurrent resolves of a cold aws_role credential make exactly one AssumeRole; later resolves none', async () => {
    const org = anOrg();
    const credential = await storedAwsRole(org.admin);
    const before = sts.calls.AssumeRole;
    sts.setLatency(100);

    const answers = await burst(() => org.runtime.credential(credential.id));

    expect(sts.calls.AssumeRole - before).toBe(1);
    expect(new Set(answers.map((answer) => answer.aws!.access_key_id)).size).toBe(1);
    for (let i = 0; i < 10; i += 1) {
      expect((await org.runtime.credential(credential.id)).aws!.access_key_id).toBe(answers[0].aws!.access_key_id);
    }
    expect(sts.calls.AssumeRole - before).toBe(1);
  });

  test('50 concurrent resolves of a cold aws_keys credential make exactly one GetSessionToken', async () => {
    const org = anOrg();
    const credential = await storedAwsKeys(org.admin);
    const before = sts.calls.GetSessionToken;
    sts.setLatency(100);

    const answers = await burst(() => org.runtime.credential(credential.id));
    await org.runtime.credential(credential.id);

    expect(sts.calls.GetSessionToken - before).toBe(1);
    expect(new Set(answers.map((answer) => answer.aws!.session_token)).size).toBe(1);
  });

  test('50 concurrent resolves of a cold service account make exactly one token request; later resolves none', async () => {
    const org = anOrg();
    const credential = await created(org.admin, 'VERTEX', serviceAccountAuth(aServiceAccount()));
    const mark = google.requests.length;
    google.setLatency(100);

    const answers = await burst(() => org.runtime.credential(credential.id));
    for (let i = 0; i < 10; i += 1) await org.runtime.credential(credential.id);

    expect(googleCallsSince(mark)).toEqual({ oauth2: 1 });
    expect(new Set(answers.map((answer) => answer.google!.access_token)).size).toBe(1);
  });

  test('50 concurrent resolves of a cold impersonation make one IAM Credentials call', async () => {
    const org = anOrg();
    const credential = await created(org.admin, 'VERTEX', { googleImpersonation: { targetPrincipal: aTarget().clientEmail } });
    const mark = google.requests.length;
    google.setLatency(100);

    await burst(() => org.runtime.credential(credential.id));
    await org.runtime.credential(credential.id);

    expect(googleCallsSince(mark)).toEqual({ oauth2: 1, iamcredentials: 1 });
  });

  test('50 concurrent resolves of a cold google_adc credential make one token request', async () => {
    const org = anOrg();
    const credential = await created(org.admin, 'VERTEX', { googleAdc: {} });
    const mark = google.requests.length;
    google.setLatency(100);

    await burst(() => org.runtime.credential(credential.id));

    expect(googleCallsSince(mark)).toEqual({ oauth2: 1 });
  });

  test('by provider_id and by credential_id share one minted credential; two credentials get one each', async () => {
    const org = anOrg();
    const first = await storedAwsRole(org.admin);
    const second = await storedAwsRole(org.admin);
    const provider = await org.admin.providers.created(aProviderInput(first.id, { modelProvider: 'BEDROCK' }));
    const before = sts.calls.AssumeRole;

    const viaProvider = await org.runtime.provider(provider.id);
    const viaCredential = await org.runtime.credential(first.id);
    const other = await org.runtime.credential(second.id);

    expect(viaCredential.aws).toEqual(viaProvider.aws);
    expect(other.aws!.access_key_id).not.toBe(viaProvider.aws!.access_key_id);
    expect(sts.calls.AssumeRole - before).toBe(2);
  });
});

describe('rotations are seen at once', () => {
  test('after updateCredential with a new API key, the next resolve answers the new key', async () => {
    const org = anOrg();
    const credential = await created(org.admin, 'OPENAI', apiKeyAuth());
    await org.runtime.credential(credential.id);
    const newKey = anApiKey();

    dataOf(await org.admin.update(credential.id, { auth: apiKeyAuth(newKey) }));

    expect(await org.runtime.credential(credential.id)).toMatchObject({
      secret_version: 2,
      headers: { authorization: `Bearer ${newKey}` },
    });
  });

  test('after REST PUT with a new api_key, the next resolve answers the new key', async () => {
    const org = anOrg();
    const credential = await created(org.admin, 'ANTHROPIC', apiKeyAuth());
    await org.runtime.credential(credential.id);
    const newKey = anApiKey();

    okBody(await restClient(vault, { token: org.admin.token }).put(`/connections/${credential.id}`, { api_key: newKey }));

    expect((await org.runtime.credential(credential.id)).headers).toEqual({ 'x-api-key': newKey, 'anthropic-version': '2023-06-01' });
  });

  test('after updateCredential with a new role, the next resolve assumes the new role (one new AssumeRole)', async () => {
    const org = anOrg();
    const credential = await storedAwsRole(org.admin);
    const old = await org.runtime.credential(credential.id);
    const newRole = aRole();
    dataOf(await org.admin.update(credential.id, { auth: { awsRole: newRole } }));
    const mark = sts.requests.length;

    const answer = await org.runtime.credential(credential.id);
    await org.runtime.credential(credential.id);

    expect(answer.secret_version).toBe(2);
    expect(answer.aws!.access_key_id).not.toBe(old.aws!.access_key_id);
    expect(sts.requests.slice(mark)).toEqual([
      expect.objectContaining({ Action: 'AssumeRole', RoleArn: newRole.iamRoleArn, ExternalId: newRole.externalId }),
    ]);
  });

  test('after REST PUT with a new key pair, the next resolve calls GetSessionToken signed with the new pair', async () => {
    const org = anOrg();
    const credential = await storedAwsKeys(org.admin);
    await org.runtime.credential(credential.id);
    const newKeys = sts.createUserKeys();

    okBody(
      await restClient(vault, { token: org.admin.token }).put(`/connections/${credential.id}`, {
        credentials: { access_key_id: newKeys.accessKeyId, secret_access_key: newKeys.secretAccessKey },
      }),
    );
    const answer = await org.runtime.credential(credential.id);

    expect(answer.secret_version).toBe(2);
    expect(issuedAs(answer.aws!.access_key_id)).toMatchObject({ action: 'GetSessionToken', issuedTo: newKeys.accessKeyId });
  });

  test('after rotating to another service account, the next token belongs to the new account', async () => {
    const org = anOrg();
    const credential = await created(org.admin, 'VERTEX', serviceAccountAuth(aServiceAccount()));
    await org.runtime.credential(credential.id);
    const next = aServiceAccount();

    dataOf(await org.admin.update(credential.id, { auth: serviceAccountAuth(next) }));
    const answer = await org.runtime.credential(credential.id);

    expect(google.principalOf(answer.google!.access_token)).toBe(next.clientEmail);
  });

  test('a settings change of region (no rotation) is in the very next answer: aws.region agrees with settings and base_url', async () => {
    const org = anOrg();
    const credential = await storedAwsRole(org.admin);
    const first = await org.runtime.credential(credential.id);
    expect(first.aws!.region).toBe(STS_REGION);

    const updated = dataOf(await org.admin.update(credential.id, { settings: { region: 'eu-central-1' } })).updateCredential;
    const answer = await org.runtime.credential(credential.id);

    expect(updated.baseUrl).toBe('https://bedrock-runtime.eu-central-1.amazonaws.com');
    expect(answer.settings).toEqual({ region: 'eu-central-1' });
    expect(answer.base_url).toBe('https://bedrock-runtime.eu-central-1.amazonaws.com');
    expect(answer.aws!.region).toBe('eu-central-1');
  });

  test('a deleted credential is 404 at once, though its minted credential was cached', async () => {
    const org = anOrg();
    const credential = await storedAwsRole(org.admin);
    await org.runtime.credential(credential.id);

    dataOf(await org.admin.delete(credential.id));

    expectRuntimeError(await org.runtime.request({ credential_id: credential.id }), {
      status: 404,
      type: 'not_found_error',
      code: 'NOT_FOUND',
    });
  });
});

describe('warm resolves are answered from memory', () => {
  /** The SQL the application sends while `run` runs. */
  async function statementsDuring(run: () => Promise<void>): Promise<string[]> {
    const statements: string[] = [];
    let recording = true;
    vault.app.database.prisma.$on('query', (event) => {
      if (recording) statements.push(event.query);
    });
    try {
      await run();
    } finally {
      recording = false;
    }
    return statements;
  }

  test('by credential and by provider, for an API key and an AWS role: no database statement once warm', async () => {
    const org = anOrg();
    const apiKey = await created(org.admin, 'OPENAI', apiKeyAuth());
    const role = await storedAwsRole(org.admin);
    const apiKeyRoute = await org.admin.providers.created(aProviderInput(apiKey.id));
    const roleRoute = await org.admin.providers.created(aProviderInput(role.id, { modelProvider: 'BEDROCK' }));
    for (const id of [apiKey.id, role.id]) await org.runtime.credential(id);
    for (const id of [apiKeyRoute.id, roleRoute.id]) await org.runtime.provider(id);
    // lastUsedAt is written once, off the request path: let that write land before counting.
    for (const id of [apiKey.id, role.id]) expect((await lastUsedOnceWritten(org.admin, id)).graphql).not.toBeNull();

    const statements = await statementsDuring(async () => {
      for (let round = 0; round < 10; round += 1) {
        for (const id of [apiKey.id, role.id]) await org.runtime.credential(id);
        for (const id of [apiKeyRoute.id, roleRoute.id]) await org.runtime.provider(id);
      }
    });

    expect(statements).toEqual([]);
  });

  test('the first resolve of a credential reads it from the database (the cache is not a source of truth)', async () => {
    const org = anOrg();
    const apiKey = await created(org.admin, 'OPENAI', apiKeyAuth());

    const statements = await statementsDuring(async () => {
      await org.runtime.credential(apiKey.id);
    });

    expect(statements.filter((sql) => /FROM "?(public"\.)?"?credentials"?/i.test(sql)).length).toBeGreaterThan(0);
  });

  test("another organization's runtime token gets 404 for a credential this replica holds in memory", async () => {
    const owner = anOrg();
    const stranger = anOrg();
    const apiKey = await created(owner.admin, 'OPENAI', apiKeyAuth());
    const route = await owner.admin.providers.created(aProviderInput(apiKey.id));
    await owner.runtime.credential(apiKey.id);
    await owner.runtime.provider(route.id);

    for (const body of [{ credential_id: apiKey.id }, { provider_id: route.id }]) {
      expectRuntimeError(await stranger.runtime.request(body), { status: 404, type: 'not_found_error', code: 'NOT_FOUND' });
    }
  });

  test('a provider repointed or deleted in the database is seen at once', async () => {
    const org = anOrg();
    const first = await created(org.admin, 'OPENAI', apiKeyAuth());
    const second = await created(org.admin, 'OPENAI', apiKeyAuth());
    const route = await org.admin.providers.created(aProviderInput(first.id));
    expect((await org.runtime.provider(route.id)).credential_id).toBe(first.id);

    // Another replica's write, or any writer's: straight to the table, heard through the change feed.
    await database.query('UPDATE providers SET credential_id = $1 WHERE id = $2', [second.id, route.id]);
    await waitUntil(async () => (await org.runtime.provider(route.id)).credential_id === second.id);
    dataOf(await org.admin.providers.delete(route.id));

    expectRuntimeError(await org.runtime.request({ provider_id: route.id }), { status: 404, type: 'not_found_error', code: 'NOT_FOUND' });
  });

  test('a provider repointed through updateProvider resolves to the new credential on the very next request', async () => {
    const org = anOrg();
    const first = await created(org.admin, 'OPENAI', apiKeyAuth());
    const newKey = anApiKey();
    const second = await created(org.admin, 'OPENAI', apiKeyAuth(newKey));
    const route = await org.admin.providers.created(aProviderInput(first.id));
    expect((await org.runtime.provider(route.id)).credential_id).toBe(first.id);
    await org.runtime.provider(route.id);

    await org.admin.providers.updated(route.id, { credentialId: second.id });

    const answer = await org.runtime.provider(route.id);
    expect(answer.credential_id).toBe(second.id);
    expect(answer.headers).toEqual({ authorization: `Bearer ${newKey}` });
  });

  test('a provider turned into OAuth passthrough through updateProvider resolves as passthrough on the very next request', async () => {
    const org = anOrg();
    const credential = await created(org.admin, 'ANTHROPIC', apiKeyAuth());
    const route = await org.admin.providers.created(aProviderInput(credential.id, { modelProvider: 'ANTHROPIC' }));
    expect((await org.runtime.provider(route.id)).credential_id).toBe(credential.id);

    await org.admin.providers.updated(route.id, { oauthPassthrough: true });

    expect(await org.runtime.provider(route.id)).toMatchObject({ oauth_passthrough: true });
  });
});

/** Polls `condition` (bounded): for writes made outside this process, heard through the change feed. */
async function waitUntil(condition: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (await condition()) return;
    await sleep(20);
  }
  throw new Error('the condition never held');
}

describe('a second replica on the same database', () => {
  let replica: TestApp;

  /** The backend of the replica's change-feed connection. */
  let replicaListener: number;

  const listeners = async () =>
    (
      await database.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN vault_changes'",
      )
    ).map((row) => row.pid);

  beforeAll(async () => {
    const before = await listeners();
    replica = await startApp(vault.dataDir);
    const started = (await listeners()).filter((pid) => !before.includes(pid));
    if (started.length !== 1) throw new Error(`expected the replica to open one listening connection, found ${started.length}`);
    replicaListener = started[0];
  });

  afterAll(async () => {
    await replica?.stop();
  });

  /**
   * Another replica's write reaches this one when PostgreSQL delivers its notification, within
   * milliseconds: read on the replica until `done` holds (bounded, 2 s), and return that answer.
   */
  async function onReplicaOnceHeard<Answer>(read: () => Promise<Answer>, done: (answer: Answer) => boolean): Promise<Answer> {
    let answer = await read();
    await waitUntil(async () => done((answer = await read())));
    return answer;
  }

  test('sees an API key rotation done through the first one', async () => {
    const org = anOrg();
    const onReplica = runtimeClient(replica, org.id);
    const credential = await created(org.admin, 'OPENAI', apiKeyAuth());
    const provider = await org.admin.providers.created(aProviderInput(credential.id));
    await org.runtime.provider(provider.id);
    await onReplica.provider(provider.id);
    const newKey = anApiKey();

    dataOf(await org.admin.update(credential.id, { auth: apiKeyAuth(newKey) }));

    expect((await org.runtime.provider(provider.id)).headers).toEqual({ authorization: `Bearer ${newKey}` });
    const answer = await onReplicaOnceHeard(
      () => onReplica.provider(provider.id),
      (seen) => seen.secret_version === 2,
    );
    expect(answer.headers).toEqual({ authorization: `Bearer ${newKey}` });
  });

  test('sees a role rotation done through the first one: it assumes the new role, once', async () => {
    const org = anOrg();
    const onReplica = runtimeClient(replica, org.id);
    const credential = await storedAwsRole(org.admin);
    await org.runtime.credential(credential.id);
    const old = await onReplica.credential(credential.id);
    const newRole = aRole();

    dataOf(await org.admin.update(credential.id, { auth: { awsRole: newRole } }));
    const mark = sts.requests.length;
    const answer = await onReplicaOnceHeard(
      () => onReplica.credential(credential.id),
      (seen) => seen.secret_version === 2,
    );

    expect(answer.aws!.access_key_id).not.toBe(old.aws!.access_key_id);
    expect(sts.requests.slice(mark)).toEqual([expect.objectContaining({ Action: 'AssumeRole', RoleArn: newRole.iamRoleArn })]);
  });

  test('sees a deletion done through the first one', async () => {
    const org = anOrg();
    const onReplica = runtimeClient(replica, org.id);
    const credential = await created(org.admin, 'OPENAI', apiKeyAuth());
    await onReplica.credential(credential.id);

    dataOf(await org.admin.delete(credential.id));

    const answer = await onReplicaOnceHeard(
      () => onReplica.request({ credential_id: credential.id }),
      (response) => response.status !== 200,
    );
    expectRuntimeError(answer, { status: 404, type: 'not_found_error', code: 'NOT_FOUND' });
  });

  test('a rotation made while the replica could not hear changes is still seen (what it held was dropped)', async () => {
    const org = anOrg();
    const onReplica = runtimeClient(replica, org.id);
    const credential = await created(org.admin, 'OPENAI', apiKeyAuth());
    await onReplica.credential(credential.id);
    const newKey = anApiKey();

    const before = await listeners();
    await database.query('SELECT pg_terminate_backend($1)', [replicaListener]);
    dataOf(await org.admin.update(credential.id, { auth: apiKeyAuth(newKey) }));

    // Its notification went nowhere: only dropping what it held (and reading through meanwhile) shows the new key.
    const rotated = await onReplicaOnceHeard(
      () => onReplica.credential(credential.id),
      (seen) => seen.secret_version === 2,
    );
    expect(rotated.headers).toEqual({ authorization: `Bearer ${newKey}` });
    // The replica listens again on a new connection, and hears the next rotation.
    let reconnected: number[] = [];
    await waitUntil(async () => (reconnected = (await listeners()).filter((pid) => !before.includes(pid))).length === 1);
    replicaListener = reconnected[0];
    const newerKey = anApiKey();
    dataOf(await org.admin.update(credential.id, { auth: apiKeyAuth(newerKey) }));
    const again = await onReplicaOnceHeard(
      () => onReplica.credential(credential.id),
      (seen) => seen.secret_version === 3,
    );
    expect(again.headers).toEqual({ authorization: `Bearer ${newerKey}` });
  });
});

describe('organization isolation', () => {
  test("another organization's provider and credential are 404, and nothing is minted for them", async () => {
    const owner = anOrg();
    const stranger = anOrg();
    const apiKey = await created(owner.admin, 'OPENAI', apiKeyAuth());
    const role = await storedAwsRole(owner.admin);
    const provider = await owner.admin.providers.created(aProviderInput(role.id, { modelProvider: 'BEDROCK' }));
    const before = { ...sts.calls };

    const answers = [
      await stranger.runtime.request({ credential_id: apiKey.id }),
      await stranger.runtime.request({ credential_id: role.id }),
      await stranger.runtime.request({ provider_id: provider.id }),
    ];

    for (const response of answers) expectRuntimeError(response, { status: 404, type: 'not_found_error', code: 'NOT_FOUND' });
    expect(sts.calls).toEqual(before);
  });

  test('an id that names nothing is 404', async () => {
    const org = anOrg();
    for (const body of [
      { credential_id: '3f0b7c2e-3c1a-4a57-9b8e-5d2f6a1c9e04' },
      { provider_id: '3f0b7c2e-3c1a-4a57-9b8e-5d2f6a1c9e04' },
    ]) {
      expectRuntimeError(await org.runtime.request(body), { status: 404, type: 'not_found_error', code: 'NOT_FOUND' });
    }
  });
});

async function runtimeHealthz(app: TestApp = vault): Promise<number> {
  return (await fetchJson(`${runtimeUrlOf(app)}/healthz`)).status;
}

describe('STS and Google failures answer 502 UPSTREAM_AUTH_FAILED naming the call', () => {
  test('STS unavailable for AssumeRole: 502 naming sts:AssumeRole; nothing cached; the next resolve succeeds', async () => {
    const org = anOrg();
    const credential = await storedAwsRole(org.admin);
    sts.failNext(1, { action: 'AssumeRole' });

    const failed = await org.runtime.request({ credential_id: credential.id });

    expectRuntimeError(failed, { status: 502, type: 'api_error', code: 'UPSTREAM_AUTH_FAILED', message: 'sts:AssumeRole' });
    expect(await runtimeHealthz()).toBe(200);
    expect(materialOf(await org.runtime.credential(credential.id))).toBe('aws');
  });

  test('a role that no longer trusts this service (AccessDenied): 502 naming sts:AssumeRole', async () => {
    const org = anOrg();
    const role = aRole();
    const credential = await storedAwsRole(org.admin, role);
    sts.addRole({ arn: role.iamRoleArn, externalId: `another-${hex(6)}` });

    expectRuntimeError(await org.runtime.request({ credential_id: credential.id }), {
      status: 502,
      type: 'api_error',
      code: 'UPSTREAM_AUTH_FAILED',
      message: 'sts:AssumeRole',
    });
  });

  test('a stored key pair STS no longer accepts: 502 naming sts:GetSessionToken', async () => {
    const org = anOrg();
    const keys = sts.createUserKeys();
    const credential = await storedAwsKeys(org.admin, keys);
    sts.disableKeys(keys.accessKeyId);

    expectRuntimeError(await org.runtime.request({ credential_id: credential.id }), {
      status: 502,
      type: 'api_error',
      code: 'UPSTREAM_AUTH_FAILED',
      message: 'sts:GetSessionToken',
    });
  });

  test('a burst during an STS outage: every caller gets the 502, and the outage makes one call', async () => {
    const org = anOrg();
    const credential = await storedAwsRole(org.admin);
    const before = sts.calls.AssumeRole;
    // The failing call is slow, so that every caller of the burst joins it before it fails.
    sts.setLatency(1000);
    sts.failNext(1, { action: 'AssumeRole' });

    const answers = await Promise.all(Array.from({ length: 20 }, () => org.runtime.request({ credential_id: credential.id })));

    expect(answers.map((response) => response.status)).toEqual(answers.map(() => 502));
    expect(sts.calls.AssumeRole - before).toBe(1);
  });

  test('STS that never answers: 502 naming sts:AssumeRole, while other resolves and /healthz keep answering', async () => {
    const org = anOrg();
    const role = await storedAwsRole(org.admin);
    const apiKey = await created(org.admin, 'OPENAI', apiKeyAuth());
    sts.hangNext(1, { action: 'AssumeRole' });

    const hanging = org.runtime.request({ credential_id: role.id });
    await sleep(200);
    const meanwhile = await org.runtime.request({ credential_id: apiKey.id });
    const healthMeanwhile = await runtimeHealthz();
    const failed = await hanging;

    expect(meanwhile.status).toBe(200);
    expect(healthMeanwhile).toBe(200);
    expectRuntimeError(failed, { status: 502, type: 'api_error', code: 'UPSTREAM_AUTH_FAILED', message: 'sts:AssumeRole' });
    expect(await runtimeHealthz()).toBe(200);
    expect(materialOf(await org.runtime.credential(role.id))).toBe('aws');
  });

  test('a service-account key Google does not know: 502 naming oauth2:jwt-bearer', async () => {
    const org = anOrg();
    const account = aServiceAccount();
    const credential = await created(org.admin, 'VERTEX', serviceAccountAuth({ ...account, privateKeyPem: rsaPrivateKeyPem() }));

    expectRuntimeError(await org.runtime.request({ credential_id: credential.id }), {
      status: 502,
      type: 'api_error',
      code: 'UPSTREAM_AUTH_FAILED',
      message: 'oauth2:jwt-bearer',
    });
  });

  test('an impersonation target this service may not impersonate: 502 naming iamcredentials:generateAccessToken', async () => {
    const org = anOrg();
    const credential = await created(org.admin, 'VERTEX', { googleImpersonation: { targetPrincipal: aServiceAccount().clientEmail } });

    expectRuntimeError(await org.runtime.request({ credential_id: credential.id }), {
      status: 502,
      type: 'api_error',
      code: 'UPSTREAM_AUTH_FAILED',
      message: 'iamcredentials:generateAccessToken',
    });
    expect(await runtimeHealthz()).toBe(200);
  });
});

const LAST_USED = `query LastUsed($id: ID!) { credential(id: $id) { id lastUsedAt } }`;

async function lastUsed(admin: Member, id: string): Promise<{ graphql: string | null; rest: string | null }> {
  const graphql = dataOf(await vault.graphql<{ credential: { lastUsedAt: string | null } }>(LAST_USED, { id }, { token: admin.token }));
  const rest = okBody(
    await restClient(vault, { token: admin.token }).get<ConnectionJson & { last_used_at: string | null }>(`/connections/${id}`),
  );
  return { graphql: graphql.credential.lastUsedAt, rest: rest.last_used_at };
}

/** lastUsedAt is written off the request path: read until it is set, a bounded number of times. */
async function lastUsedOnceWritten(admin: Member, id: string): Promise<{ graphql: string | null; rest: string | null }> {
  let seen = await lastUsed(admin, id);
  for (let attempt = 0; attempt < 100 && (seen.graphql === null || seen.rest === null); attempt += 1) {
    await sleep(50);
    seen = await lastUsed(admin, id);
  }
  return seen;
}

describe('usage: lastUsedAt and the audit line', () => {
  test('lastUsedAt (GraphQL) and last_used_at (REST) are null until a resolve, then the time of the resolve', async () => {
    const org = anOrg();
    const credential = await created(org.admin, 'OPENAI', apiKeyAuth());
    expect(await lastUsed(org.admin, credential.id)).toEqual({ graphql: null, rest: null });

    const before = Date.now();
    await org.runtime.credential(credential.id);
    const after = Date.now();
    const seen = await lastUsedOnceWritten(org.admin, credential.id);

    expect(seen.graphql).not.toBeNull();
    expect(seen.rest).toBe(seen.graphql);
    expect(Date.parse(seen.graphql!)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(seen.graphql!)).toBeLessThanOrEqual(after);
  });

  test('a resolve through a provider counts for its credential', async () => {
    const org = anOrg();
    const credential = await created(org.admin, 'OPENAI', apiKeyAuth());
    const provider = await org.admin.providers.created(aProviderInput(credential.id));

    await org.runtime.provider(provider.id);

    expect((await lastUsedOnceWritten(org.admin, credential.id)).graphql).not.toBeNull();
  });

  test('two resolves in the same minute write one credential.resolved audit line', async () => {
    const org = anOrg();
    const credential = await created(org.admin, 'OPENAI', apiKeyAuth());
    const resolvedLines = () =>
      logEvents<{ credentialId?: string }>(vault.logLines, 'credential.resolved').filter((line) => line.credentialId === credential.id);

    await org.runtime.credential(credential.id);
    await org.runtime.credential(credential.id);

    expect(resolvedLines()).toEqual([
      expect.objectContaining({ event: 'credential.resolved', orgId: org.id, credentialId: credential.id, actor: 'gateway-data-plane' }),
    ]);
  });
});

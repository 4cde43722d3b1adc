// validateGoogleVertex end to end: the real application over HTTP and PostgreSQL, its real
// google-auth-library clients (JWT, GoogleAuth, Impersonated) talking over loopback to the fake
// Google Cloud: the OAuth token endpoint (GOOGLE_OAUTH_TOKEN_URL), IAM Credentials
// (GOOGLE_IAM_CREDENTIALS_ENDPOINT) and Vertex AI countTokens (VERTEX_API_ENDPOINT). This
// service's own identity (ADC) is a service-account key file in a temporary directory, named by
// GOOGLE_APPLICATION_CREDENTIALS.
import { type Canary, findCanaries, type Haystack, logHaystacks, pemNeedle, secretNeedle, Transcript } from '../support/canaries';
import { type FakeGoogleCloud, type FakeServiceAccount, startFakeGoogleCloud } from '../fakes/fake-google-cloud';
import { aCredentialInput, apiKeyAuth, awsRoleAuth, hex, rsaPrivateKeyPem, TEST_PROJECT_ID } from '../support/factories';
import { closedPort, type SilentPeer, startSilentPeer } from '../support/loopback';
import { anAdmin, aViewer, type Member } from '../support/organizations';
import { logEvents, startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { dataOf, expectBadUserInput, expectError } from '../support/vault-client';
import {
  checkNamed,
  healthz,
  outcomes,
  requestsDuring,
  VALIDATE_GOOGLE_VERTEX,
  type ValidationResultView,
  whileHealthChecked,
  vertexCaller,
  withinDeadline,
  writeKeyFile,
} from '../support/validation-harness';

const PROJECT = TEST_PROJECT_ID;
const HOST_PROJECT = 'vault-host-project';
const DEFAULT_MODEL = 'gemini-2.5-flash';
const TOKEN_CREATOR_ROLE = 'roles/iam.serviceAccountTokenCreator';

let database: TestDatabase;
let google: FakeGoogleCloud;
let vault: TestApp;
/** This service's own Google identity: the service account in its ADC key file. */
let runtime: FakeServiceAccount;
let adcKeyFile: { path: string; remove: () => void };
const transcript = new Transcript();
/** Every private key this file made, as PEM needles. */
const privateKeys: Canary[] = [];
const apps: TestApp[] = [];

function googleEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    GOOGLE_OAUTH_TOKEN_URL: google.tokenUrl,
    GOOGLE_IAM_CREDENTIALS_ENDPOINT: google.iamCredentialsEndpoint,
    VERTEX_API_ENDPOINT: google.vertexEndpoint,
    GOOGLE_APPLICATION_CREDENTIALS: adcKeyFile.path,
    OUTBOUND_ALLOW_PRIVATE: 'true',
    ...overrides,
  };
}

async function startApp(overrides: Record<string, string> = {}): Promise<TestApp> {
  const app = await startTestApp({ databaseUrl: database.url, env: googleEnv(overrides) });
  apps.push(app);
  return app;
}

beforeAll(async () => {
  database = await createTestDatabase('validate_vertex_e2e');
  google = await startFakeGoogleCloud();
  runtime = google.createServiceAccount(`vault-runtime-${hex(3)}@${HOST_PROJECT}.iam.gserviceaccount.com`, HOST_PROJECT);
  privateKeys.push(pemNeedle('ADC private key', runtime.privateKeyPem));
  adcKeyFile = writeKeyFile(runtime.keyFile(google.tokenUrl));
  vault = await startApp();
});

afterAll(async () => {
  await vault?.stop();
  await google?.close();
  adcKeyFile?.remove();
  await database?.drop();
});

/** A service account the fake knows, with a key; `vertex` grants it Vertex AI in PROJECT. */
function aServiceAccount(options: { vertex?: boolean } = {}): FakeServiceAccount {
  const account = google.createServiceAccount(`sa-${hex(4)}@${PROJECT}.iam.gserviceaccount.com`, PROJECT);
  privateKeys.push(pemNeedle(`private key of ${account.clientEmail}`, account.privateKeyPem));
  if (options.vertex) google.grantVertex(account.clientEmail, PROJECT);
  return account;
}

function serviceAccountInput(account: FakeServiceAccount, overrides: Record<string, unknown> = {}) {
  return {
    clientEmail: account.clientEmail,
    privateKey: account.privateKeyPem,
    privateKeyId: account.privateKeyId,
    projectId: account.projectId,
    clientId: account.clientId,
    ...overrides,
  };
}

/** An impersonation target; `tokenCreator` lets this service's identity impersonate it directly. */
function aTarget(options: { tokenCreator?: boolean; vertex?: boolean } = {}): FakeServiceAccount {
  const target = aServiceAccount({ vertex: options.vertex });
  if (options.tokenCreator) google.grantTokenCreator(runtime.clientEmail, target.clientEmail);
  return target;
}

function validate(caller: { token?: string }, variables: Record<string, unknown>, app: TestApp = vault) {
  return transcript.graphql<{ validateGoogleVertex: ValidationResultView }>(
    app,
    'validateGoogleVertex',
    VALIDATE_GOOGLE_VERTEX,
    variables,
    caller.token,
  );
}

async function validated(caller: Member, variables: Record<string, unknown>, app: TestApp = vault): Promise<ValidationResultView> {
  return dataOf(await validate(caller, variables, app)).validateGoogleVertex;
}

async function storedVertexCredential(caller: Member, auth: Record<string, unknown>): Promise<string> {
  return (await caller.created(aCredentialInput({ modelProvider: 'VERTEX', auth }))).id;
}

const OK_CHECKS = [
  ['token', true],
  ['vertex', true],
];

describe('validateGoogleVertex with an inline service account', () => {
  test('is ok for a key the token endpoint accepts and an account with Vertex access: token ok, vertex ok', async () => {
    const result = await validated(anAdmin(vault), {
      input: { googleServiceAccount: serviceAccountInput(aServiceAccount({ vertex: true })) },
      projectId: PROJECT,
    });

    expect(result).toMatchObject({ ok: true, authType: 'GOOGLE_SERVICE_ACCOUNT', message: null });
    expect(outcomes(result)).toEqual(OK_CHECKS);
    for (const check of result.checks) {
      expect(Number.isInteger(check.durationMs)).toBe(true);
      expect(check.durationMs).toBeGreaterThanOrEqual(0);
    }
  });

  test('gets the token with a JWT-bearer grant and calls countTokens with it as the bearer', async () => {
    const account = aServiceAccount({ vertex: true });
    const { requests } = await requestsDuring(google, () =>
      validated(anAdmin(vault), { input: { googleServiceAccount: serviceAccountInput(account) }, projectId: PROJECT }),
    );

    expect(requests.map(({ service, method, path }) => ({ service, method, path }))).toEqual([
      { service: 'oauth2', method: 'POST', path: '/token' },
      {
        service: 'vertex',
        method: 'POST',
        path: `/v1/projects/${PROJECT}/locations/us-central1/publishers/google/models/${DEFAULT_MODEL}:countTokens`,
      },
    ]);
    expect(vertexCaller(google, requests)).toBe(account.clientEmail);
  });

  test('is not ok when the token endpoint rejects the key (another key than the account has): token fails, no Vertex call', async () => {
    const account = aServiceAccount({ vertex: true });
    const otherKey = rsaPrivateKeyPem();
    privateKeys.push(pemNeedle('unregistered private key', otherKey));
    const { value: result, requests } = await requestsDuring(google, () =>
      validated(anAdmin(vault), {
        input: { googleServiceAccount: serviceAccountInput(account, { privateKey: otherKey }) },
        projectId: PROJECT,
      }),
    );

    expect(result).toMatchObject({ ok: false, authType: 'GOOGLE_SERVICE_ACCOUNT' });
    expect(outcomes(result)).toEqual([['token', false]]);
    expect(result.message).toMatch(/invalid_grant/);
    expect(result.message).toBe(result.checks[0].detail);
    expect(requests.filter((request) => request.service === 'vertex')).toEqual([]);
  });

  test('is not ok when Vertex refuses the identity (403): token ok, vertex fails naming the missing access', async () => {
    const result = await validated(anAdmin(vault), {
      input: { googleServiceAccount: serviceAccountInput(aServiceAccount()) },
      projectId: PROJECT,
    });

    expect(result.ok).toBe(false);
    expect(outcomes(result)).toEqual([
      ['token', true],
      ['vertex', false],
    ]);
    const vertex = checkNamed(result, 'vertex');
    expect(vertex.detail).toContain('403');
    expect(vertex.detail).toContain('roles/aiplatform.user');
    expect(result.message).toBe(vertex.detail);
  });

  test('is not ok for a model Vertex does not know: vertex fails with 404', async () => {
    const model = `gemini-0-unknown-${hex(2)}`;
    const result = await validated(anAdmin(vault), {
      input: { googleServiceAccount: serviceAccountInput(aServiceAccount({ vertex: true })) },
      projectId: PROJECT,
      model,
    });

    expect(result.ok).toBe(false);
    expect(outcomes(result)).toEqual([
      ['token', true],
      ['vertex', false],
    ]);
    expect(checkNamed(result, 'vertex').detail).toContain('404');
    expect(checkNamed(result, 'vertex').detail).toContain(model);
  });

  test('uses gemini-2.5-flash in us-central1 when model and location are omitted', async () => {
    const { value: result, requests } = await requestsDuring(google, () =>
      validated(anAdmin(vault), {
        input: { googleServiceAccount: serviceAccountInput(aServiceAccount({ vertex: true })) },
        projectId: PROJECT,
      }),
    );

    expect(result.ok).toBe(true);
    const vertex = requests.filter((request) => request.service === 'vertex');
    expect(vertex.map((request) => request.path)).toEqual([
      `/v1/projects/${PROJECT}/locations/us-central1/publishers/google/models/${DEFAULT_MODEL}:countTokens`,
    ]);
  });

  test('calls countTokens for the given model and location', async () => {
    const { value: result, requests } = await requestsDuring(google, () =>
      validated(anAdmin(vault), {
        input: { googleServiceAccount: serviceAccountInput(aServiceAccount({ vertex: true })) },
        projectId: PROJECT,
        location: 'europe-west4',
        model: 'gemini-2.5-pro',
      }),
    );

    expect(result.ok).toBe(true);
    expect(requests.filter((request) => request.service === 'vertex').map((request) => request.path)).toEqual([
      `/v1/projects/${PROJECT}/locations/europe-west4/publishers/google/models/gemini-2.5-pro:countTokens`,
    ]);
  });

  test('accepts a tokenUri equal to the configured token URL', async () => {
    const account = aServiceAccount({ vertex: true });
    const result = await validated(anAdmin(vault), {
      input: { googleServiceAccount: serviceAccountInput(account, { tokenUri: google.tokenUrl }) },
      projectId: PROJECT,
    });

    expect(outcomes(result)).toEqual(OK_CHECKS);
  });

  test('is BAD_USER_INPUT on input.googleServiceAccount.tokenUri for another token URL, before any request', async () => {
    const account = aServiceAccount({ vertex: true });
    const { value: response, requests } = await requestsDuring(google, () =>
      validate(anAdmin(vault), {
        input: { googleServiceAccount: serviceAccountInput(account, { tokenUri: 'https://oauth2.googleapis.com/token' }) },
        projectId: PROJECT,
      }),
    );

    expectBadUserInput(response, 'input.googleServiceAccount.tokenUri');
    expect(requests).toEqual([]);
  });

  test('is BAD_USER_INPUT on input.googleServiceAccount.privateKey for a key that is not PEM, without repeating it', async () => {
    const account = aServiceAccount({ vertex: true });
    const notPem = `not-a-key-${hex(16)}`;
    const { value: response, requests } = await requestsDuring(google, () =>
      validate(anAdmin(vault), {
        input: { googleServiceAccount: serviceAccountInput(account, { privateKey: notPem }) },
        projectId: PROJECT,
      }),
    );

    expectBadUserInput(response, 'input.googleServiceAccount.privateKey');
    expect(response.text).not.toContain(notPem);
    expect(requests).toEqual([]);
  });
});

describe('validateGoogleVertex with GOOGLE_ADC', () => {
  test("is ok with this service's own key file (GOOGLE_APPLICATION_CREDENTIALS): Vertex sees the runtime identity", async () => {
    google.grantVertex(runtime.clientEmail, PROJECT);
    const { value: result, requests } = await requestsDuring(google, () =>
      validated(anAdmin(vault), { input: { googleAdc: {} }, projectId: PROJECT }),
    );

    expect(result).toMatchObject({ ok: true, authType: 'GOOGLE_ADC', message: null });
    expect(outcomes(result)).toEqual(OK_CHECKS);
    expect(requests.filter((request) => request.service === 'oauth2')).toHaveLength(1);
    expect(vertexCaller(google, requests)).toBe(runtime.clientEmail);
  });

  test('is not ok for a project where the runtime identity has no Vertex access: vertex fails with 403', async () => {
    const result = await validated(anAdmin(vault), {
      input: { googleAdc: { quotaProjectId: 'vault-quota-project' } },
      projectId: 'vault-unrelated-project',
    });

    expect(result).toMatchObject({ ok: false, authType: 'GOOGLE_ADC' });
    expect(outcomes(result)).toEqual([
      ['token', true],
      ['vertex', false],
    ]);
    expect(checkNamed(result, 'vertex').detail).toContain('403');
  });

  test('is BAD_USER_INPUT on input.googleAdc.quotaProjectId for a malformed quota project', async () => {
    const { value: response, requests } = await requestsDuring(google, () =>
      validate(anAdmin(vault), { input: { googleAdc: { quotaProjectId: 'Not A Project' } }, projectId: PROJECT }),
    );

    expectBadUserInput(response, 'input.googleAdc.quotaProjectId');
    expect(requests).toEqual([]);
  });
});

describe('validateGoogleVertex with GOOGLE_IMPERSONATION', () => {
  test('is ok when the runtime identity may impersonate a target with Vertex access: token ok, vertex ok', async () => {
    const target = aTarget({ tokenCreator: true, vertex: true });
    const result = await validated(anAdmin(vault), {
      input: { googleImpersonation: { targetPrincipal: target.clientEmail } },
      projectId: PROJECT,
    });

    expect(result).toMatchObject({ ok: true, authType: 'GOOGLE_IMPERSONATION', message: null });
    expect(outcomes(result)).toEqual(OK_CHECKS);
  });

  test("gets an ADC token, then generateAccessToken for the target, and calls Vertex with the target's token", async () => {
    const target = aTarget({ tokenCreator: true, vertex: true });
    const { requests } = await requestsDuring(google, () =>
      validated(anAdmin(vault), { input: { googleImpersonation: { targetPrincipal: target.clientEmail } }, projectId: PROJECT }),
    );

    expect(requests.map(({ service, path }) => ({ service, path }))).toEqual([
      { service: 'oauth2', path: '/token' },
      { service: 'iamcredentials', path: `/v1/projects/-/serviceAccounts/${target.clientEmail}:generateAccessToken` },
      { service: 'vertex', path: `/v1/projects/${PROJECT}/locations/us-central1/publishers/google/models/${DEFAULT_MODEL}:countTokens` },
    ]);
    const iam = requests.find((request) => request.service === 'iamcredentials');
    expect(google.principalOf((iam?.authorization ?? '').replace(/^Bearer /, ''))).toBe(runtime.clientEmail);
    expect(vertexCaller(google, requests)).toBe(target.clientEmail);
  });

  test(`is not ok without ${TOKEN_CREATOR_ROLE} on the target: token fails naming the role, no Vertex call`, async () => {
    const target = aTarget({ vertex: true });
    const { value: result, requests } = await requestsDuring(google, () =>
      validated(anAdmin(vault), { input: { googleImpersonation: { targetPrincipal: target.clientEmail } }, projectId: PROJECT }),
    );

    expect(result).toMatchObject({ ok: false, authType: 'GOOGLE_IMPERSONATION' });
    expect(outcomes(result)).toEqual([['token', false]]);
    expect(result.message).toContain(TOKEN_CREATOR_ROLE);
    expect(result.message).toContain(target.clientEmail);
    expect(requests.filter((request) => request.service === 'vertex')).toEqual([]);
  });

  test('is ok through a delegate chain: runtime → delegate → target', async () => {
    const delegate = aTarget({ tokenCreator: true });
    const target = aServiceAccount({ vertex: true });
    google.grantTokenCreator(delegate.clientEmail, target.clientEmail);
    const { value: result, requests } = await requestsDuring(google, () =>
      validated(anAdmin(vault), {
        input: { googleImpersonation: { targetPrincipal: target.clientEmail, delegates: [delegate.clientEmail] } },
        projectId: PROJECT,
      }),
    );

    expect(outcomes(result)).toEqual(OK_CHECKS);
    expect(vertexCaller(google, requests)).toBe(target.clientEmail);
  });

  test('is not ok when a hop of the delegate chain lacks the token creator grant', async () => {
    // The runtime may impersonate the delegate, but the delegate may not impersonate the target.
    const delegate = aTarget({ tokenCreator: true });
    const target = aTarget({ tokenCreator: true, vertex: true });
    const result = await validated(anAdmin(vault), {
      input: { googleImpersonation: { targetPrincipal: target.clientEmail, delegates: [delegate.clientEmail] } },
      projectId: PROJECT,
    });

    expect(outcomes(result)).toEqual([['token', false]]);
    expect(result.message).toContain(TOKEN_CREATOR_ROLE);
  });

  test('is BAD_USER_INPUT on input.googleImpersonation.targetPrincipal for a target that is not a service account email', async () => {
    const { value: response, requests } = await requestsDuring(google, () =>
      validate(anAdmin(vault), { input: { googleImpersonation: { targetPrincipal: 'someone@example.com' } }, projectId: PROJECT }),
    );

    expectBadUserInput(response, 'input.googleImpersonation.targetPrincipal');
    expect(requests).toEqual([]);
  });
});

describe('validateGoogleVertex by credentialId', () => {
  test('validates a stored GOOGLE_SERVICE_ACCOUNT credential with its stored key', async () => {
    const caller = anAdmin(vault);
    const account = aServiceAccount({ vertex: true });
    const id = await storedVertexCredential(caller, { googleServiceAccount: serviceAccountInput(account) });
    const { value: result, requests } = await requestsDuring(google, () =>
      validated(caller, { input: { credentialId: id }, projectId: PROJECT }),
    );

    expect(result).toMatchObject({ ok: true, authType: 'GOOGLE_SERVICE_ACCOUNT' });
    expect(outcomes(result)).toEqual(OK_CHECKS);
    expect(vertexCaller(google, requests)).toBe(account.clientEmail);
  });

  test('validates a stored GOOGLE_ADC credential with the runtime identity', async () => {
    const caller = anAdmin(vault);
    google.grantVertex(runtime.clientEmail, PROJECT);
    const id = await storedVertexCredential(caller, { googleAdc: { quotaProjectId: PROJECT } });
    const { value: result, requests } = await requestsDuring(google, () =>
      validated(caller, { input: { credentialId: id }, projectId: PROJECT }),
    );

    expect(result).toMatchObject({ ok: true, authType: 'GOOGLE_ADC' });
    expect(outcomes(result)).toEqual(OK_CHECKS);
    expect(vertexCaller(google, requests)).toBe(runtime.clientEmail);
  });

  test('validates a stored GOOGLE_IMPERSONATION credential with its stored target and delegates', async () => {
    const caller = anAdmin(vault);
    const delegate = aTarget({ tokenCreator: true });
    const target = aServiceAccount({ vertex: true });
    google.grantTokenCreator(delegate.clientEmail, target.clientEmail);
    const id = await storedVertexCredential(caller, {
      googleImpersonation: { targetPrincipal: target.clientEmail, delegates: [delegate.clientEmail] },
    });
    const { value: result, requests } = await requestsDuring(google, () =>
      validated(caller, { input: { credentialId: id }, projectId: PROJECT }),
    );

    expect(result).toMatchObject({ ok: true, authType: 'GOOGLE_IMPERSONATION' });
    expect(outcomes(result)).toEqual(OK_CHECKS);
    expect(vertexCaller(google, requests)).toBe(target.clientEmail);
  });

  test('reports a stored impersonation the runtime may not perform as not ok', async () => {
    const caller = anAdmin(vault);
    const id = await storedVertexCredential(caller, { googleImpersonation: { targetPrincipal: aTarget({ vertex: true }).clientEmail } });
    const result = await validated(caller, { input: { credentialId: id }, projectId: PROJECT });

    expect(outcomes(result)).toEqual([['token', false]]);
    expect(result.message).toContain(TOKEN_CREATOR_ROLE);
  });

  test("is NOT_FOUND for another organization's credential, before any request", async () => {
    const id = await storedVertexCredential(anAdmin(vault), {
      googleServiceAccount: serviceAccountInput(aServiceAccount({ vertex: true })),
    });
    const { value: response, requests } = await requestsDuring(google, () =>
      validate(anAdmin(vault), { input: { credentialId: id }, projectId: PROJECT }),
    );

    expectError(response, { code: 'NOT_FOUND' });
    expect(response.body.data).toBeNull();
    expect(requests).toEqual([]);
  });

  test('is BAD_USER_INPUT on input.credentialId for a Bedrock AWS_ROLE credential', async () => {
    const caller = anAdmin(vault);
    const created = await caller.created(aCredentialInput({ modelProvider: 'BEDROCK', auth: awsRoleAuth() }));
    const { value: response, requests } = await requestsDuring(google, () =>
      validate(caller, { input: { credentialId: created.id }, projectId: PROJECT }),
    );

    expectBadUserInput(response, 'input.credentialId');
    expect(requests).toEqual([]);
  });

  test('is BAD_USER_INPUT on input.credentialId for an API_KEY credential', async () => {
    const caller = anAdmin(vault);
    const created = await caller.created(aCredentialInput({ modelProvider: 'GOOGLE_AI', auth: apiKeyAuth() }));

    expectBadUserInput(await validate(caller, { input: { credentialId: created.id }, projectId: PROJECT }), 'input.credentialId');
  });

  test('is BAD_USER_INPUT on input.credentialId for an id that is not a UUID', async () => {
    expectBadUserInput(await validate(anAdmin(vault), { input: { credentialId: 'not-a-uuid' }, projectId: PROJECT }), 'input.credentialId');
  });
});

describe('validateGoogleVertex without projectId', () => {
  const OTHER_PROJECT = 'vault-other-project';
  const vertexPaths = (requests: { service: string; path: string }[]) =>
    requests.filter((request) => request.service === 'vertex').map((request) => request.path);
  const countTokensIn = (project: string) =>
    `/v1/projects/${project}/locations/us-central1/publishers/google/models/${DEFAULT_MODEL}:countTokens`;

  async function storedWithSettings(caller: Member, auth: Record<string, unknown>, settings: Record<string, unknown>): Promise<string> {
    return (await caller.created(aCredentialInput({ modelProvider: 'VERTEX', auth, settings }))).id;
  }

  test("uses a stored service account's own project", async () => {
    const caller = anAdmin(vault);
    const id = await storedVertexCredential(caller, { googleServiceAccount: serviceAccountInput(aServiceAccount({ vertex: true })) });

    const { value: result, requests } = await requestsDuring(google, () => validated(caller, { input: { credentialId: id } }));

    expect(outcomes(result)).toEqual(OK_CHECKS);
    expect(vertexPaths(requests)).toEqual([countTokensIn(PROJECT)]);
  });

  test("prefers a stored service account's settings.project_id to its own project", async () => {
    const caller = anAdmin(vault);
    const account = aServiceAccount();
    google.grantVertex(account.clientEmail, OTHER_PROJECT);
    const id = await storedWithSettings(caller, { googleServiceAccount: serviceAccountInput(account) }, { project_id: OTHER_PROJECT });

    const { value: result, requests } = await requestsDuring(google, () => validated(caller, { input: { credentialId: id } }));

    expect(outcomes(result)).toEqual(OK_CHECKS);
    expect(vertexPaths(requests)).toEqual([countTokensIn(OTHER_PROJECT)]);
  });

  test('uses the settings.project_id of a stored GOOGLE_ADC credential', async () => {
    google.grantVertex(runtime.clientEmail, OTHER_PROJECT);
    const caller = anAdmin(vault);
    const id = await storedWithSettings(caller, { googleAdc: {} }, { project_id: OTHER_PROJECT });

    const { value: result, requests } = await requestsDuring(google, () => validated(caller, { input: { credentialId: id } }));

    expect(outcomes(result)).toEqual(OK_CHECKS);
    expect(vertexPaths(requests)).toEqual([countTokensIn(OTHER_PROJECT)]);
  });

  test('uses the settings.projectId of a stored GOOGLE_IMPERSONATION credential', async () => {
    const caller = anAdmin(vault);
    const target = aTarget({ tokenCreator: true });
    google.grantVertex(target.clientEmail, OTHER_PROJECT);
    const id = await storedWithSettings(
      caller,
      { googleImpersonation: { targetPrincipal: target.clientEmail } },
      { projectId: OTHER_PROJECT },
    );

    const { value: result, requests } = await requestsDuring(google, () => validated(caller, { input: { credentialId: id } }));

    expect(outcomes(result)).toEqual(OK_CHECKS);
    expect(vertexPaths(requests)).toEqual([countTokensIn(OTHER_PROJECT)]);
  });

  test("uses an inline service account's own project", async () => {
    const { value: result, requests } = await requestsDuring(google, () =>
      validated(anAdmin(vault), { input: { googleServiceAccount: serviceAccountInput(aServiceAccount({ vertex: true })) } }),
    );

    expect(outcomes(result)).toEqual(OK_CHECKS);
    expect(vertexPaths(requests)).toEqual([countTokensIn(PROJECT)]);
  });

  test('a projectId given wins over the settings', async () => {
    const caller = anAdmin(vault);
    const id = await storedWithSettings(
      caller,
      { googleServiceAccount: serviceAccountInput(aServiceAccount({ vertex: true })) },
      { project_id: OTHER_PROJECT },
    );

    const { requests } = await requestsDuring(google, () => validated(caller, { input: { credentialId: id }, projectId: PROJECT }));

    expect(vertexPaths(requests)).toEqual([countTokensIn(PROJECT)]);
  });

  test.each<[string, () => Record<string, unknown>]>([
    ['GOOGLE_ADC', () => ({ googleAdc: {} })],
    [
      'GOOGLE_IMPERSONATION',
      () => ({ googleImpersonation: { targetPrincipal: aTarget({ tokenCreator: true, vertex: true }).clientEmail } }),
    ],
  ])('is BAD_USER_INPUT on projectId for a stored %s credential without a project setting, before any request', async (_authType, auth) => {
    const caller = anAdmin(vault);
    const id = await storedVertexCredential(caller, auth());

    const { value: response, requests } = await requestsDuring(google, () => validate(caller, { input: { credentialId: id } }));

    expectBadUserInput(response, 'projectId', /projectId is required/);
    expect(requests).toEqual([]);
  });

  test('is BAD_USER_INPUT on projectId for inline ADC or impersonation, before any request', async () => {
    const caller = anAdmin(vault);
    const { value: responses, requests } = await requestsDuring(google, async () => [
      await validate(caller, { input: { googleAdc: {} } }),
      await validate(caller, { input: { googleImpersonation: { targetPrincipal: aTarget({ tokenCreator: true }).clientEmail } } }),
    ]);

    for (const response of responses) expectBadUserInput(response, 'projectId', /projectId is required/);
    expect(requests).toEqual([]);
  });

  test('is BAD_USER_INPUT on projectId when the stored settings.project_id is not a project id, before any request', async () => {
    const caller = anAdmin(vault);
    const id = await storedWithSettings(caller, { googleAdc: {} }, { project_id: 'Not A Project' });

    const { value: response, requests } = await requestsDuring(google, () => validate(caller, { input: { credentialId: id } }));

    expectBadUserInput(response, 'projectId', /settings\.project_id must be a Google Cloud project id/);
    expect(requests).toEqual([]);
  });
});

describe('validateGoogleVertex argument errors', () => {
  const anyValidInput = () => ({ googleServiceAccount: serviceAccountInput(aServiceAccount({ vertex: true })) });

  test.each([
    ['projectId', { projectId: 'Not_A_Project' }],
    ['location', { projectId: PROJECT, location: 'us-central1.evil.example.com' }],
    ['model', { projectId: PROJECT, model: 'gemini/../../other' }],
  ])('is BAD_USER_INPUT on %s for a malformed value, before any request', async (field, args) => {
    const { value: response, requests } = await requestsDuring(google, () => validate(anAdmin(vault), { input: anyValidInput(), ...args }));

    expectBadUserInput(response, field);
    expect(requests).toEqual([]);
  });

  test('is BAD_USER_INPUT on input when two members are given', async () => {
    const { value: response, requests } = await requestsDuring(google, () =>
      validate(anAdmin(vault), { input: { ...anyValidInput(), googleAdc: {} }, projectId: PROJECT }),
    );

    expectBadUserInput(response, 'input');
    expect(requests).toEqual([]);
  });

  test('is BAD_USER_INPUT on input when no member is given', async () => {
    expectBadUserInput(await validate(anAdmin(vault), { input: {}, projectId: PROJECT }), 'input');
  });
});

describe('validateGoogleVertex authorization', () => {
  test('is FORBIDDEN for a viewer, before any request', async () => {
    const { value: response, requests } = await requestsDuring(google, () =>
      validate(aViewer(vault), { input: { googleAdc: {} }, projectId: PROJECT }),
    );

    expectError(response, { code: 'FORBIDDEN' });
    expect(requests).toEqual([]);
  });

  test('is UNAUTHENTICATED without a token, before any request', async () => {
    const { value: response, requests } = await requestsDuring(google, () =>
      validate({}, { input: { googleAdc: {} }, projectId: PROJECT }),
    );

    expectError(response, { code: 'UNAUTHENTICATED' });
    expect(requests).toEqual([]);
  });
});

describe('validateGoogleVertex when Google cannot be reached', () => {
  let silent: SilentPeer;
  let downVault: TestApp;
  let silentTokenVault: TestApp;
  let silentApisVault: TestApp;

  beforeAll(async () => {
    silent = await startSilentPeer();
    downVault = await startApp({
      GOOGLE_OAUTH_TOKEN_URL: `http://127.0.0.1:${await closedPort()}/token`,
      GOOGLE_IAM_CREDENTIALS_ENDPOINT: `http://127.0.0.1:${await closedPort()}`,
      VERTEX_API_ENDPOINT: `http://127.0.0.1:${await closedPort()}`,
    });
    silentTokenVault = await startApp({ GOOGLE_OAUTH_TOKEN_URL: `${silent.base}/token` });
    silentApisVault = await startApp({ GOOGLE_IAM_CREDENTIALS_ENDPOINT: silent.base, VERTEX_API_ENDPOINT: silent.base });
  });

  afterAll(async () => {
    // The silent peer first: closing it ends any request still waiting on it, so the apps can stop.
    await silent?.close();
    await downVault?.stop();
    await silentTokenVault?.stop();
    await silentApisVault?.stop();
  });

  test('is not ok, quickly, when nothing listens at the token endpoint, and /healthz stays 200', async () => {
    const started = Date.now();
    const result = await validated(
      anAdmin(downVault),
      { input: { googleServiceAccount: serviceAccountInput(aServiceAccount({ vertex: true })) }, projectId: PROJECT },
      downVault,
    );

    expect(Date.now() - started).toBeLessThan(5000);
    expect(result).toMatchObject({ ok: false, authType: 'GOOGLE_SERVICE_ACCOUNT' });
    expect(outcomes(result)).toEqual([['token', false]]);
    expect(result.message).toMatch(/^could not get an access token: could not reach 127\.0\.0\.1:\d+/);
    expect(await healthz(downVault)).toEqual({ status: 200, body: { status: 'ok' } });
  });

  test('is not ok, quickly, for GOOGLE_ADC when nothing listens at the token endpoint', async () => {
    const started = Date.now();
    const result = await validated(anAdmin(downVault), { input: { googleAdc: {} }, projectId: PROJECT }, downVault);

    expect(Date.now() - started).toBeLessThan(5000);
    expect(outcomes(result)).toEqual([['token', false]]);
    expect(result.message).toMatch(/could not reach 127\.0\.0\.1:\d+/);
  });

  test('is not ok within the timeout when the token endpoint never answers, and /healthz answers meanwhile', async () => {
    const before = silent.connections;
    const {
      value: outcome,
      elapsedMs,
      health,
    } = await whileHealthChecked(silentTokenVault, () =>
      withinDeadline(
        validated(
          anAdmin(silentTokenVault),
          { input: { googleServiceAccount: serviceAccountInput(aServiceAccount({ vertex: true })) }, projectId: PROJECT },
          silentTokenVault,
        ),
        20_000,
      ),
    );

    expect(silent.connections).toBeGreaterThan(before);
    expect(health.length).toBeGreaterThan(3);
    expect(health.every((status) => status === 200)).toBe(true);
    expect(outcome.finished).toBe(true);
    if (!outcome.finished) return;
    // The outbound client's total timeout is 10 s.
    expect(elapsedMs).toBeLessThan(15_000);
    expect(outcomes(outcome.value)).toEqual([['token', false]]);
    expect(outcome.value.message).toMatch(/did not answer within \d+ ms/);
  }, 40_000);

  test('is not ok within the timeout when Vertex never answers: token ok, vertex fails', async () => {
    const { value: outcome, elapsedMs } = await whileHealthChecked(silentApisVault, () =>
      withinDeadline(
        validated(
          anAdmin(silentApisVault),
          { input: { googleServiceAccount: serviceAccountInput(aServiceAccount({ vertex: true })) }, projectId: PROJECT },
          silentApisVault,
        ),
        20_000,
      ),
    );

    expect(outcome.finished).toBe(true);
    if (!outcome.finished) return;
    expect(elapsedMs).toBeLessThan(15_000);
    expect(outcomes(outcome.value)).toEqual([
      ['token', true],
      ['vertex', false],
    ]);
    expect(outcome.value.message).toMatch(/^could not call Vertex AI: .*did not answer within \d+ ms/);
  }, 40_000);

  test('is not ok within the timeout when IAM Credentials never answers (impersonation)', async () => {
    const target = aTarget({ tokenCreator: true, vertex: true });
    const { value: outcome, elapsedMs } = await whileHealthChecked(silentApisVault, () =>
      withinDeadline(
        validated(
          anAdmin(silentApisVault),
          { input: { googleImpersonation: { targetPrincipal: target.clientEmail } }, projectId: PROJECT },
          silentApisVault,
        ),
        20_000,
      ),
    );

    expect(outcome.finished).toBe(true);
    if (!outcome.finished) return;
    expect(elapsedMs).toBeLessThan(15_000);
    expect(outcomes(outcome.value)).toEqual([['token', false]]);
  }, 40_000);
});

describe('validateGoogleVertex keeps secrets out of responses and logs', () => {
  const haystacks = (): Haystack[] => [...transcript.received, ...logHaystacks(apps)];

  test('writes an audit line with the outcome of each check', async () => {
    const caller = anAdmin(vault);
    await validated(caller, { input: { googleServiceAccount: serviceAccountInput(aServiceAccount()) }, projectId: PROJECT });
    const lines = logEvents(vault.logLines, 'validation.google_vertex').filter((line) => line.orgId === caller.orgId);

    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ ok: false, checks: ['token:ok', 'vertex:failed'] });
  });

  test('scans responses that carry validation results and log lines that carry audit events', () => {
    const texts = haystacks().map((haystack) => haystack.text);
    expect(texts.some((text) => text.includes('obtained an access token'))).toBe(true);
    expect(texts.some((text) => text.includes('"event":"validation.google_vertex"'))).toBe(true);
  });

  test('never shows a private key (inline, stored or the runtime key file) in a response or a log line', () => {
    expect(privateKeys.length).toBeGreaterThan(10);
    expect(transcript.received.length).toBeGreaterThan(20);
    expect(findCanaries(privateKeys, haystacks())).toEqual([]);
  });

  test('never shows an access token the fake issued in a response or a log line', () => {
    expect(google.issuedTokens.length).toBeGreaterThan(10);
    const tokens = google.issuedTokens.map((token, index) => secretNeedle(`issued token ${index}`, token));
    expect(findCanaries(tokens, haystacks())).toEqual([]);
  });
});

describe('validateGoogleVertex with a key file or for Claude on Vertex', () => {
  test('a service-account key file pasted as one JSON string validates like its fields: token ok, vertex ok', async () => {
    const account = aServiceAccount({ vertex: true });
    const result = await validated(anAdmin(vault), {
      input: { googleServiceAccountKeyFile: JSON.stringify(account.keyFile(google.tokenUrl)) },
      projectId: PROJECT,
    });
    expect(outcomes(result)).toEqual(OK_CHECKS);
    expect(result.authType).toBe('GOOGLE_SERVICE_ACCOUNT');
  });

  test('a key file that is not JSON is BAD_USER_INPUT on the member, without quoting it', async () => {
    const account = aServiceAccount();
    const broken = JSON.stringify(account.keyFile(google.tokenUrl)).slice(0, -5);
    const response = await validate(anAdmin(vault), { input: { googleServiceAccountKeyFile: broken }, projectId: PROJECT });
    const error = expectBadUserInput(response, 'input.googleServiceAccountKeyFile', 'The service-account key file is not valid JSON.');
    expect(JSON.stringify(response)).not.toContain(account.privateKeyId);
    expect(error.message).not.toContain('PRIVATE KEY');
  });

  test('ANTHROPIC_MESSAGES counts tokens through the Messages endpoint, naming the model in the body', async () => {
    const account = aServiceAccount({ vertex: true });
    const { value: result, requests } = await requestsDuring(google, () =>
      validated(anAdmin(vault), {
        input: { googleServiceAccount: serviceAccountInput(account) },
        projectId: PROJECT,
        modelApiFamily: 'ANTHROPIC_MESSAGES',
      }),
    );
    expect(outcomes(result)).toEqual(OK_CHECKS);
    const vertex = requests.filter((request) => request.service === 'vertex').map((request) => request.path);
    expect(vertex).toEqual([`/v1/projects/${PROJECT}/locations/us-central1/publishers/anthropic/models/count-tokens:rawPredict`]);
  });

  test('ANTHROPIC_MESSAGES with a model Vertex does not know reports the vertex step as not ok (404)', async () => {
    const result = await validated(anAdmin(vault), {
      input: { googleServiceAccount: serviceAccountInput(aServiceAccount({ vertex: true })) },
      projectId: PROJECT,
      model: 'claude-unknown-1',
      modelApiFamily: 'ANTHROPIC_MESSAGES',
    });
    expect(outcomes(result)).toEqual([
      ['token', true],
      ['vertex', false],
    ]);
    expect(checkNamed(result, 'vertex').detail).toMatch(/\(404\)/);
  });
});

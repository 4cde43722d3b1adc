// The fake Google Cloud (OAuth token endpoint, IAM Credentials, Vertex AI), driven by the real
// google-auth-library clients (never stubbed): JWT service-account tokens, GoogleAuth with key files
// (service_account and authorized_user ADC), Impersonated with delegation chains — and what the fake
// refuses: foreign signatures, bad claims, missing grants, unknown tokens, models and bodies.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { gaxios, GoogleAuth, Impersonated, JWT, OAuth2Client, UserRefreshClient } from 'google-auth-library';
import jsonwebtoken from 'jsonwebtoken';
import {
  CLOUD_PLATFORM_SCOPE,
  fakeGoogleTransporter,
  startFakeGoogleCloud,
  type FakeGoogleCloud,
  type FakeServiceAccount,
} from '../../fakes/fake-google-cloud';
import { rejectionOf } from '../../support/failures';
import { TempDirs } from '../../support/temp-dirs';

const PROJECT = 'vault-test-project';
const MODEL = 'gemini-2.5-flash';
const COUNT_BODY = { contents: [{ role: 'user', parts: [{ text: 'hello' }] }] };

type HttpFailure = Error & { status?: number; response?: { status: number; data: unknown } };

/** The HTTP error a client call rejected with. */
const failure = async (promise: Promise<unknown>) => (await rejectionOf(promise)) as HttpFailure;

describe('fake Google Cloud', () => {
  let google: FakeGoogleCloud;
  let source: FakeServiceAccount;
  let target: FakeServiceAccount;
  let transporter: gaxios.Gaxios;
  let dir: string;
  const tempDirs = new TempDirs('fake-google-');

  const countTokensUrl = (project = PROJECT, model = MODEL) =>
    `${google.vertexEndpoint}/v1/projects/${project}/locations/us-central1/publishers/google/models/${model}:countTokens`;

  const jwtFor = (sa: FakeServiceAccount, scopes = [CLOUD_PLATFORM_SCOPE]) =>
    new JWT({ email: sa.clientEmail, key: sa.privateKeyPem, keyId: sa.privateKeyId, scopes, transporter });

  const countTokens = (client: OAuth2Client, project = PROJECT, model = MODEL) =>
    client.request<{ totalTokens: number; totalBillableCharacters: number }>({
      url: countTokensUrl(project, model),
      method: 'POST',
      data: COUNT_BODY,
    });

  const postToken = (form: Record<string, string>) => fetch(google.tokenUrl, { method: 'POST', body: new URLSearchParams(form) });

  const assertion = (claims: Record<string, unknown>, key: string, keyid?: string) =>
    jsonwebtoken.sign(claims, key, { algorithm: 'RS256', ...(keyid ? { keyid } : {}) });

  beforeEach(async () => {
    google = await startFakeGoogleCloud();
    source = google.createServiceAccount('vault-runner@vault-test-project.iam.gserviceaccount.com', PROJECT);
    target = google.createServiceAccount('vertex-caller@customer-project.iam.gserviceaccount.com', 'customer-project');
    transporter = fakeGoogleTransporter(google);
    dir = tempDirs.make();
  });

  afterEach(async () => {
    tempDirs.removeAll();
    await google.close();
  });

  test('exposes three loopback services and Google-shaped service accounts', () => {
    for (const url of [google.tokenUrl, google.iamCredentialsEndpoint, google.vertexEndpoint]) {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
    }
    expect(new Set([google.tokenUrl, google.iamCredentialsEndpoint, google.vertexEndpoint].map((u) => new URL(u).port)).size).toBe(3);
    expect(source.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(source.privateKeyId).toMatch(/^[0-9a-f]{40}$/);
    expect(source.clientId).toMatch(/^\d{21}$/);
    expect(source.keyFile(google.tokenUrl)).toEqual(
      expect.objectContaining({
        type: 'service_account',
        project_id: PROJECT,
        private_key_id: source.privateKeyId,
        private_key: source.privateKeyPem,
        client_email: source.clientEmail,
        client_id: source.clientId,
        token_uri: google.tokenUrl,
      }),
    );
  });

  describe('JWT (service account key)', () => {
    test('gets an access token from the fake token endpoint, and Vertex accepts it', async () => {
      google.grantVertex(source.clientEmail, PROJECT);
      const client = jwtFor(source);
      const { token } = await client.getAccessToken();

      expect(token).toMatch(/^ya29\.c\./);
      expect(google.issuedTokens).toEqual([token]);
      expect(google.principalOf(token!)).toBe(source.clientEmail);
      expect(client.credentials.expiry_date).toBeGreaterThan(Date.now() + 3_500_000);

      const res = await countTokens(client);
      expect(res.status).toBe(200);
      expect(res.data).toEqual({ totalTokens: 1, totalBillableCharacters: 5 });
      expect(google.requests.map((r) => [r.service, r.method, r.path])).toEqual([
        ['oauth2', 'POST', '/token'],
        ['vertex', 'POST', new URL(countTokensUrl()).pathname],
      ]);
      expect(google.requests[1]?.authorization).toBe(`Bearer ${token}`);
    });

    test('works with a hand-written interceptor on google-auth-library’s own gaxios (the recipe without the helper)', async () => {
      const own = new gaxios.Gaxios({ fetchImplementation: fetch });
      own.interceptors.request.add({
        resolved: (config) => {
          if (String(config.url) === 'https://oauth2.googleapis.com/token') config.url = new URL(google.tokenUrl);
          return Promise.resolve(config);
        },
      });
      const client = new JWT({ email: source.clientEmail, key: source.privateKeyPem, scopes: [CLOUD_PLATFORM_SCOPE], transporter: own });
      const { token } = await client.getAccessToken();
      expect(token).toBe(google.issuedTokens[0]);
    });

    test("also works by adding the interceptor to the client's own transporter after construction", async () => {
      const client = new JWT({
        email: source.clientEmail,
        key: source.privateKeyPem,
        scopes: [CLOUD_PLATFORM_SCOPE],
        transporterOptions: { fetchImplementation: fetch },
      });
      client.transporter.interceptors.request.add({
        resolved: (config) => {
          if (String(config.url) === 'https://oauth2.googleapis.com/token') config.url = new URL(google.tokenUrl);
          return Promise.resolve(config);
        },
      });
      const { token } = await client.getAccessToken();
      expect(google.principalOf(token!)).toBe(source.clientEmail);
    });

    test('routes the real Vertex host to the fake through the transporter', async () => {
      google.grantVertex(source.clientEmail, PROJECT);
      const client = jwtFor(source);
      const res = await client.request({
        url: `https://us-central1-aiplatform.googleapis.com/v1/projects/${PROJECT}/locations/us-central1/publishers/google/models/${MODEL}:countTokens`,
        method: 'POST',
        data: COUNT_BODY,
      });
      expect(res.data).toEqual({ totalTokens: 1, totalBillableCharacters: 5 });
    });

    test('refuses to let any other request reach the real Google', async () => {
      const client = jwtFor(source);
      const error = await failure(client.request({ url: 'https://storage.googleapis.com/storage/v1/b' }));
      expect(error.message).toMatch(/refusing to send a request to the real Google/);
    });

    test('rejects an assertion signed with another key as invalid_grant', async () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const forged = new JWT({
        email: source.clientEmail,
        key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        scopes: [CLOUD_PLATFORM_SCOPE],
        transporter,
      });
      const error = await failure(forged.getAccessToken());
      expect(error.message).toBe('invalid_grant: Invalid JWT Signature.');
      expect(google.issuedTokens).toHaveLength(0);
    });

    test("rejects another account's key, an unknown account and a kid that is not the account's", async () => {
      const crossed = new JWT({ email: source.clientEmail, key: target.privateKeyPem, scopes: [CLOUD_PLATFORM_SCOPE], transporter });
      expect((await failure(crossed.getAccessToken())).message).toBe('invalid_grant: Invalid JWT Signature.');

      const stranger = new JWT({
        email: 'nobody@x.iam.gserviceaccount.com',
        key: source.privateKeyPem,
        scopes: [CLOUD_PLATFORM_SCOPE],
        transporter,
      });
      expect((await failure(stranger.getAccessToken())).message).toBe('invalid_grant: Invalid grant: account not found');

      const now = Math.floor(Date.now() / 1000);
      const claims = { iss: source.clientEmail, aud: google.tokenUrl, scope: CLOUD_PLATFORM_SCOPE, iat: now, exp: now + 3600 };
      const wrongKid = await postToken({
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion: assertion(claims, source.privateKeyPem, target.privateKeyId),
      });
      expect(wrongKid.status).toBe(400);
      expect(await wrongKid.json()).toEqual({ error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });

      const rightKid = await postToken({
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion: assertion(claims, source.privateKeyPem, source.privateKeyId),
      });
      expect(rightKid.status).toBe(200);
      expect(await rightKid.json()).toEqual({
        access_token: expect.stringMatching(/^ya29\./),
        expires_in: expect.any(Number),
        token_type: 'Bearer',
      });
    });

    test('checks aud, the one-hour lifetime, scope and sub like Google', async () => {
      const now = Math.floor(Date.now() / 1000);
      const base = {
        iss: source.clientEmail,
        aud: 'https://oauth2.googleapis.com/token',
        scope: CLOUD_PLATFORM_SCOPE,
        iat: now,
        exp: now + 3600,
      };
      const grant = async (claims: Record<string, unknown>) => {
        const res = await postToken({
          grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
          assertion: assertion(claims, source.privateKeyPem),
        });
        return { status: res.status, body: (await res.json()) as { error?: string; error_description?: string } };
      };
      expect((await grant(base)).status).toBe(200);
      expect(await grant({ ...base, aud: 'https://evil.example/token' })).toEqual({
        status: 400,
        body: expect.objectContaining({ error: 'invalid_grant', error_description: expect.stringMatching(/audience/) }),
      });
      expect((await grant({ ...base, exp: now + 3601 })).body.error_description).toMatch(/short-lived token \(60 minutes\)/);
      expect((await grant({ ...base, iat: now - 7200, exp: now - 3600 })).body.error).toBe('invalid_grant');
      expect(await grant({ ...base, scope: undefined })).toEqual({
        status: 400,
        body: { error: 'invalid_scope', error_description: 'Invalid OAuth scope or ID token audience provided.' },
      });
      expect((await grant({ ...base, sub: 'admin@example.com' })).body.error).toBe('unauthorized_client');

      const unsupported = await postToken({ grant_type: 'password', username: 'x', password: 'y' });
      expect(unsupported.status).toBe(400);
      expect(((await unsupported.json()) as { error: string }).error).toBe('unsupported_grant_type');
    });
  });

  describe('GoogleAuth (application default credentials from a key file)', () => {
    test('reads a service-account key file via keyFilename and gets a token from the fake', async () => {
      const keyFilename = join(dir, 'sa.json');
      writeFileSync(keyFilename, JSON.stringify(source.keyFile(google.tokenUrl)));
      google.grantVertex(source.clientEmail, PROJECT);

      const auth = new GoogleAuth({ keyFilename, scopes: [CLOUD_PLATFORM_SCOPE], clientOptions: { transporter } });
      const token = await auth.getAccessToken();
      expect(google.principalOf(token!)).toBe(source.clientEmail);
      expect(await auth.getProjectId()).toBe(PROJECT);

      const client = await auth.getClient();
      expect(client).toBeInstanceOf(JWT);
      const res = await auth.request({ url: countTokensUrl(), method: 'POST', data: COUNT_BODY });
      expect(res.status).toBe(200);
    });

    test('reads GOOGLE_APPLICATION_CREDENTIALS the same way', async () => {
      const keyFilename = join(dir, 'adc.json');
      writeFileSync(keyFilename, JSON.stringify(source.keyFile(google.tokenUrl)));
      const saved = process.env.GOOGLE_APPLICATION_CREDENTIALS;
      process.env.GOOGLE_APPLICATION_CREDENTIALS = keyFilename;
      try {
        const auth = new GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE], clientOptions: { transporter } });
        const token = await auth.getAccessToken();
        expect(google.principalOf(token!)).toBe(source.clientEmail);
      } finally {
        if (saved === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
        else process.env.GOOGLE_APPLICATION_CREDENTIALS = saved;
      }
    });

    test('refreshes an authorized_user ADC file through the refresh_token grant', async () => {
      const user = google.createAuthorizedUser('dev@example.com');
      const keyFilename = join(dir, 'user.json');
      writeFileSync(keyFilename, JSON.stringify(user.keyFile()));
      google.grantVertex('dev@example.com', PROJECT);

      const auth = new GoogleAuth({ keyFilename, clientOptions: { transporter } });
      expect(await auth.getClient()).toBeInstanceOf(UserRefreshClient);
      const token = await auth.getAccessToken();
      expect(google.principalOf(token!)).toBe('dev@example.com');
      expect((await auth.request({ url: countTokensUrl(), method: 'POST', data: COUNT_BODY })).status).toBe(200);

      const revoked = new UserRefreshClient({
        clientId: user.clientId,
        clientSecret: user.clientSecret,
        refreshToken: 'not-the-refresh-token',
        transporter,
      });
      const error = await failure(revoked.getAccessToken());
      expect(error.response?.status).toBe(400);
      expect(error.response?.data).toEqual({ error: 'invalid_grant', error_description: 'Bad Request' });
    });
  });

  describe('Impersonated (IAM Credentials generateAccessToken)', () => {
    // Not 300 s: google-auth-library refreshes tokens within eagerRefreshThresholdMillis (5 min) of expiry,
    // so a 300 s impersonated token is re-minted before every request.
    const impersonate = (sourceClient: OAuth2Client, delegates: string[] = [], lifetime = 600) =>
      new Impersonated({
        sourceClient,
        targetPrincipal: target.clientEmail,
        delegates,
        targetScopes: [CLOUD_PLATFORM_SCOPE],
        lifetime,
        endpoint: google.iamCredentialsEndpoint,
        transporter, // only for the Impersonated client's own API calls; the IAM call goes through sourceClient
      });

    test('gets a token for the target, and Vertex accepts it as the target', async () => {
      google.grantTokenCreator(source.clientEmail, target.clientEmail);
      google.grantVertex(target.clientEmail, 'customer-project');
      const sourceClient = jwtFor(source);
      const client = impersonate(sourceClient);

      const before = Date.now();
      const { token } = await client.getAccessToken();
      expect(google.principalOf(token!)).toBe(target.clientEmail);
      const expiresIn = client.credentials.expiry_date! - before;
      expect(expiresIn).toBeGreaterThan(595_000);
      expect(expiresIn).toBeLessThanOrEqual(601_000);

      const res = await countTokens(client, 'customer-project');
      expect(res.data).toEqual({ totalTokens: 1, totalBillableCharacters: 5 });
      // the source itself has no Vertex access to that project: the call ran as the target
      const error = await failure(countTokens(sourceClient, 'customer-project'));
      expect(error.response?.status).toBe(403);

      const iamCall = google.requests.find((r) => r.service === 'iamcredentials');
      expect(iamCall?.path).toBe(`/v1/projects/-/serviceAccounts/${target.clientEmail}:generateAccessToken`);
      expect(iamCall?.authorization).toBe(`Bearer ${google.issuedTokens[0]}`);
      expect(google.issuedTokens).toEqual([expect.any(String), token]);
    });

    test('is denied with 403 PERMISSION_DENIED without a token creator grant', async () => {
      const error = await failure(impersonate(jwtFor(source)).getAccessToken());
      expect(error.message).toBe(
        "PERMISSION_DENIED: unable to impersonate: Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
      );
      expect(error.response?.status).toBe(403);
      expect(error.response?.data).toEqual({
        error: {
          code: 403,
          message: "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
          status: 'PERMISSION_DENIED',
        },
      });
    });

    test('walks the delegation chain: every hop needs the grant', async () => {
      const middle = google.createServiceAccount('middle@vault-test-project.iam.gserviceaccount.com', PROJECT);
      google.grantTokenCreator(source.clientEmail, middle.clientEmail);
      // middle -> target missing: denied, even though the source could act as middle
      expect((await failure(impersonate(jwtFor(source), [middle.clientEmail]).getAccessToken())).response?.status).toBe(403);
      // a direct grant on the target does not let the source skip a named delegate
      google.grantTokenCreator(source.clientEmail, target.clientEmail);
      expect((await failure(impersonate(jwtFor(source), [middle.clientEmail]).getAccessToken())).response?.status).toBe(403);

      google.grantTokenCreator(middle.clientEmail, target.clientEmail);
      const { token } = await impersonate(jwtFor(source), [`projects/-/serviceAccounts/${middle.clientEmail}`]).getAccessToken();
      expect(google.principalOf(token!)).toBe(target.clientEmail);
    });

    test('answers 401 to an unknown caller token and 400 to a lifetime over an hour', async () => {
      const stranger = new OAuth2Client({ transporter });
      stranger.setCredentials({ access_token: 'ya29.not-issued-here', expiry_date: Date.now() + 3_600_000 });
      const error = await failure(impersonate(stranger).getAccessToken());
      expect(error.response?.status).toBe(401);
      expect(error.message).toMatch(/^UNAUTHENTICATED: unable to impersonate: Request had invalid authentication credentials/);

      google.grantTokenCreator(source.clientEmail, target.clientEmail);
      const tooLong = await failure(impersonate(jwtFor(source), [], 7200).getAccessToken());
      expect(tooLong.response?.status).toBe(400);
    });

    test('mints a fresh impersonated token per request when the lifetime is within 5 minutes', async () => {
      google.grantTokenCreator(source.clientEmail, target.clientEmail);
      google.grantVertex(target.clientEmail, 'customer-project');
      const client = new Impersonated({
        sourceClient: jwtFor(source),
        targetPrincipal: target.clientEmail,
        targetScopes: [CLOUD_PLATFORM_SCOPE],
        lifetime: 300,
        endpoint: google.iamCredentialsEndpoint,
        transporter,
      });
      await countTokens(client, 'customer-project');
      await countTokens(client, 'customer-project');
      expect(google.requests.filter((r) => r.service === 'iamcredentials')).toHaveLength(2);
      expect(google.issuedTokens).toHaveLength(3);
    });
  });

  describe('Vertex countTokens', () => {
    test('rejects tokens the fake did not issue with 401 UNAUTHENTICATED', async () => {
      for (const authorization of ['Bearer ya29.forged', undefined]) {
        const res = await fetch(countTokensUrl(), {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
          body: JSON.stringify(COUNT_BODY),
        });
        expect(res.status).toBe(401);
        expect(await res.json()).toEqual({
          error: { code: 401, status: 'UNAUTHENTICATED', message: expect.stringMatching(/authentication credential/) },
        });
      }
    });

    test('needs a Vertex grant on the project, a known model, the cloud-platform scope and a well-formed body', async () => {
      const client = jwtFor(source);
      const denied = await failure(countTokens(client));
      expect(denied.response?.status).toBe(403);
      expect(denied.response?.data).toEqual({ error: expect.objectContaining({ code: 403, status: 'PERMISSION_DENIED' }) });

      google.grantVertex(source.clientEmail, PROJECT);
      const missing = await failure(countTokens(client, PROJECT, 'gemini-9-ultra'));
      expect(missing.response?.status).toBe(404);
      expect(missing.response?.data).toEqual({ error: expect.objectContaining({ code: 404, status: 'NOT_FOUND' }) });
      google.knownModels.add('gemini-9-ultra');
      await expect(countTokens(client, PROJECT, 'gemini-9-ultra')).resolves.toEqual(expect.objectContaining({ status: 200 }));

      const badBody = await failure(client.request({ url: countTokensUrl(), method: 'POST', data: { contents: [] } }));
      expect(badBody.response?.status).toBe(400);
      expect(badBody.response?.data).toEqual({ error: expect.objectContaining({ status: 'INVALID_ARGUMENT' }) });

      const narrow = jwtFor(source, ['https://www.googleapis.com/auth/devstorage.read_only']);
      const scoped = await failure(countTokens(narrow));
      expect(scoped.response?.status).toBe(403);
      expect(JSON.stringify(scoped.response?.data)).toContain('ACCESS_TOKEN_SCOPE_INSUFFICIENT');
    });
  });

  test('delays every service by the configured latency', async () => {
    google.setLatency(250);
    const started = Date.now();
    await jwtFor(source).getAccessToken();
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
  });
});

// KMS_TIMEOUT_MS is the deadline of every Cloud KMS call the application makes: the real
// application on PostgreSQL, its real @google-cloud/kms client talking to the fake KMS, which is
// made slower than the deadline. A write then fails with KMS_UNAVAILABLE after its attempts (each
// cut at the deadline) instead of waiting out the 5 s default, and the runtime route's Decrypt has
// the same deadline. The time bound is generous: it tells three short deadlines from even one
// default one (5 s).
import { performance } from 'node:perf_hooks';
import { type FakeKms, startFakeKms } from '../fakes/fake-kms-server';
import { kmsEnv } from '../support/cloud-fakes';
import { aCredentialInput, apiKeyAuth } from '../support/factories';
import { anOrganization } from '../support/organizations';
import { expectRuntimeError, runtimeClient } from '../support/runtime-client';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { expectError } from '../support/vault-client';

const KMS_TIMEOUT_MS = 300;
/** Three attempts of KMS_TIMEOUT_MS with backoff take about a second; the default deadline alone is 5 s. */
const WELL_UNDER_THE_DEFAULT_MS = 4000;

let database: TestDatabase;
let kms: FakeKms;
let vault: TestApp;

beforeAll(async () => {
  database = await createTestDatabase('kms_timeout_e2e');
  kms = await startFakeKms();
  vault = await startTestApp({ databaseUrl: database.url, env: { ...kmsEnv(kms), KMS_TIMEOUT_MS: String(KMS_TIMEOUT_MS) } });
  // A first call sets up the client and its channel, so the tests below time KMS alone.
  await vault.app.keyService.checkReady();
});

afterAll(async () => {
  await vault?.stop();
  await kms?.close();
  await database?.drop();
});

afterEach(() => {
  kms.setLatency(0);
});

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

test('an Encrypt slower than KMS_TIMEOUT_MS is cut at the deadline: KMS_UNAVAILABLE after three attempts, well before 5 s', async () => {
  const { admin } = anOrganization(vault);
  kms.resetCalls();
  kms.setLatency(10 * KMS_TIMEOUT_MS);

  const { value: response, ms } = await timed(() => admin.create(aCredentialInput()));

  expectError(response, { code: 'KMS_UNAVAILABLE' });
  expect(kms.calls.encrypt).toBe(3);
  expect(ms).toBeLessThan(WELL_UNDER_THE_DEFAULT_MS);
});

test("the runtime route's Decrypt has the same deadline: 503 KMS_UNAVAILABLE well before 5 s", async () => {
  const org = anOrganization(vault);
  const credential = await org.admin.created(aCredentialInput({ auth: apiKeyAuth() }));
  kms.resetCalls();
  kms.setLatency(10 * KMS_TIMEOUT_MS);

  const { value: response, ms } = await timed(() => runtimeClient(vault, org.id).request({ credential_id: credential.id }));

  expectRuntimeError(response, { status: 503, type: 'service_unavailable_error', code: 'KMS_UNAVAILABLE', param: null });
  expect(kms.calls.decrypt).toBe(3);
  expect(ms).toBeLessThan(WELL_UNDER_THE_DEFAULT_MS);
});

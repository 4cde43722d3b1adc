// The service with Cloud KMS as its key service: the real application over HTTP and PostgreSQL,
// its real @google-cloud/kms client talking to the fake KMS gRPC server over loopback
// (KMS_API_ENDPOINT=http://127.0.0.1:<port>). One Encrypt per write, none per read; every KMS fault
// is KMS_UNAVAILABLE and leaves the credentials table byte-for-byte as it was; /readyz names the key
// service while KMS fails; and there is never a fallback to the local key ring.
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ConfigError, loadConfig } from '../../src/config/config';
import { LOCAL_KEYRING_FILE } from '../../src/secrets/local-keyring';
import { type FakeKms, startFakeKms } from '../fakes/fake-kms-server';
import { type KmsVault, kmsEnv, startKmsVault } from '../support/cloud-fakes';
import { aCredentialInput, anApiKey, apiKeyAuth, expectedSecretPayload } from '../support/factories';
import { anAdmin } from '../support/organizations';
import { fetchJson, startTestApp, type TestApp } from '../support/test-app';
import type { TestDatabase } from '../support/test-database';
import { TEST_JWT_SECRET } from '../support/tokens';
import { type CredentialView, expectError, openSecret } from '../support/vault-client';

let database: TestDatabase;
let kms: FakeKms;
let vault: TestApp;
let started: KmsVault;

/** The deadline of every KMS call of `vault` (KMS_TIMEOUT_MS): the latency fault waits out three of them. */
const KMS_TIMEOUT_MS = 1000;

beforeAll(async () => {
  started = await startKmsVault('kms_e2e', { KMS_TIMEOUT_MS: String(KMS_TIMEOUT_MS) });
  ({ database, kms, vault } = started);
  // A first call sets up the client and its channel; no test below should count a retry of it.
  await vault.app.keyService.checkReady();
});

afterAll(() => started?.stop());

afterEach(() => {
  kms.setLatency(0);
});

/** The whole credentials table as text, sealed columns included (bytea as hex). */
async function dumpCredentials(): Promise<string> {
  const rows = await database.query<{ row: unknown }>('SELECT row_to_json(c)::text AS row FROM credentials c ORDER BY id');
  return JSON.stringify(rows.map((r) => r.row));
}

async function storedKeyId(id: string): Promise<string | null> {
  const [row] = await database.query<{ secret_key_id: string | null }>('SELECT secret_key_id FROM credentials WHERE id = $1', [id]);
  return row.secret_key_id;
}

function readyz(app: TestApp) {
  return fetchJson<{ status?: string; failed?: string[]; checks?: Record<string, string> }>(`${app.baseUrl}/readyz`);
}

describe('credentials with Cloud KMS as the key service', () => {
  test('uses the Cloud KMS key service, not the local key ring', () => {
    expect(vault.app.keyService.name).toBe('gcp-kms');
    expect(existsSync(path.join(vault.dataDir, LOCAL_KEYRING_FILE))).toBe(false);
  });

  test('creates a credential with exactly one Encrypt and no Decrypt', async () => {
    const admin = anAdmin(vault);
    kms.resetCalls();
    await admin.created(aCredentialInput());
    expect(kms.calls).toEqual({ encrypt: 1, decrypt: 0 });
  });

  test('stores the CryptoKeyVersion name KMS reported as secret_key_id', async () => {
    const created = await anAdmin(vault).created(aCredentialInput());
    expect(await storedKeyId(created.id)).toBe(`${kms.keyName}/cryptoKeyVersions/1`);
  });

  test('seals a secret that opens with the application key service', async () => {
    const input = aCredentialInput({ auth: apiKeyAuth() });
    const created = await anAdmin(vault).created(input);
    const opened = await openSecret(vault, created.organizationId, created.id);
    expect(opened).toEqual({ authType: 'API_KEY', secretVersion: 1, payload: expectedSecretPayload(input.auth!) });
  });

  test('reads a credential with no KMS call', async () => {
    const admin = anAdmin(vault);
    const created = await admin.created(aCredentialInput());
    kms.resetCalls();
    const read = await admin.read(created.id);
    expect(read.id).toBe(created.id);
    expect(kms.calls).toEqual({ encrypt: 0, decrypt: 0 });
  });

  test('lists credentials with no KMS call', async () => {
    const admin = anAdmin(vault);
    const created: CredentialView[] = [];
    for (let i = 0; i < 3; i += 1) created.push(await admin.created(aCredentialInput()));
    kms.resetCalls();
    const listed = await admin.listed({ first: 10 });
    expect(listed.edges.map((edge) => edge.node.id).sort()).toEqual(created.map((c) => c.id).sort());
    expect(kms.calls).toEqual({ encrypt: 0, decrypt: 0 });
  });

  test('rotates a secret with exactly one Encrypt and no Decrypt', async () => {
    const admin = anAdmin(vault);
    const created = await admin.created(aCredentialInput());
    kms.resetCalls();
    const response = await admin.update(created.id, { auth: apiKeyAuth() });
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.updateCredential.secretVersion).toBe(2);
    expect(kms.calls).toEqual({ encrypt: 1, decrypt: 0 });
  });

  test('opens the rotated secret, version 2, under the KMS key version', async () => {
    const admin = anAdmin(vault);
    const created = await admin.created(aCredentialInput());
    const auth = apiKeyAuth(anApiKey());
    await admin.update(created.id, { auth });
    expect(await openSecret(vault, created.organizationId, created.id)).toEqual({
      authType: 'API_KEY',
      secretVersion: 2,
      payload: expectedSecretPayload(auth),
    });
    expect(await storedKeyId(created.id)).toBe(kms.primaryVersion());
  });

  test('stores new writes under the new primary after a rotation in KMS, without a restart, and old rows still open', async () => {
    const admin = anAdmin(vault);
    const oldInput = aCredentialInput({ auth: apiKeyAuth() });
    const old = await admin.created(oldInput);
    const oldKeyId = await storedKeyId(old.id);
    const newPrimary = kms.rotate();
    const fresh = await admin.created(aCredentialInput());
    expect(await storedKeyId(fresh.id)).toBe(newPrimary);
    expect(oldKeyId).not.toBe(newPrimary);
    expect((await openSecret(vault, old.organizationId, old.id))?.payload).toEqual(expectedSecretPayload(oldInput.auth!));
  });
});

interface Fault {
  name: string;
  inject(): void;
  /** Jest timeout, for a fault that waits out deadlines. */
  timeout?: number;
}

const FAULTS: Fault[] = [
  { name: 'UNAVAILABLE on every attempt', inject: () => kms.failNext(grpc.status.UNAVAILABLE, { count: 3, method: 'encrypt' }) },
  { name: 'PERMISSION_DENIED', inject: () => kms.failNext(grpc.status.PERMISSION_DENIED, { method: 'encrypt' }) },
  { name: 'latency beyond the call deadline', inject: () => kms.setLatency(3 * KMS_TIMEOUT_MS), timeout: 60_000 },
  { name: 'a corrupted ciphertextCrc32c', inject: () => kms.corruptNext('ciphertextCrc32c') },
  { name: 'verifiedPlaintextCrc32c false', inject: () => kms.corruptNext('verifiedPlaintextCrc32c') },
  { name: 'verifiedAdditionalAuthenticatedDataCrc32c false', inject: () => kms.corruptNext('verifiedAdditionalAuthenticatedDataCrc32c') },
];

describe('KMS faults on createCredential', () => {
  for (const fault of FAULTS) {
    test(
      `fails with KMS_UNAVAILABLE and leaves the credentials table unchanged on ${fault.name}`,
      async () => {
        const admin = anAdmin(vault);
        await admin.created(aCredentialInput()); // the organization has a row the failed write must not touch
        const before = await dumpCredentials();
        fault.inject();
        const input = aCredentialInput();
        const response = await admin.create(input);
        kms.setLatency(0);
        expectError(response, { code: 'KMS_UNAVAILABLE' });
        expect(response.body.data?.createCredential ?? null).toBeNull();
        expect(await dumpCredentials()).toBe(before);
        // And the failed name is free: nothing half-written holds it.
        await expect(admin.created(input)).resolves.toMatchObject({ name: input.name });
      },
      fault.timeout,
    );
  }
});

describe('KMS faults on a rotation (updateCredential with auth)', () => {
  for (const fault of FAULTS) {
    test(
      `fails with KMS_UNAVAILABLE and leaves the credentials table unchanged on ${fault.name}`,
      async () => {
        const admin = anAdmin(vault);
        const auth = apiKeyAuth();
        const created = await admin.created(aCredentialInput({ auth }));
        const before = await dumpCredentials();
        fault.inject();
        const response = await admin.update(created.id, { auth: apiKeyAuth(), name: `${created.name}-renamed` });
        kms.setLatency(0);
        expectError(response, { code: 'KMS_UNAVAILABLE' });
        expect(await dumpCredentials()).toBe(before);
        expect(await openSecret(vault, created.organizationId, created.id)).toEqual({
          authType: 'API_KEY',
          secretVersion: 1,
          payload: expectedSecretPayload(auth),
        });
      },
      fault.timeout,
    );
  }
});

describe('/readyz with Cloud KMS', () => {
  // GcpKmsKeyService trusts a readiness success for 15 s, so every test starts an application of
  // its own and makes its first readiness call while the fault is in place.
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  test('answers 200 when KMS answers', async () => {
    app = await startTestApp({ databaseUrl: database.url, env: kmsEnv(kms) });
    const ready = await readyz(app);
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ database: 'ok', keyService: 'ok' });
  });

  test('answers 503 naming keyService while KMS is UNAVAILABLE, and 200 once it recovers', async () => {
    app = await startTestApp({ databaseUrl: database.url, env: kmsEnv(kms) });
    kms.failNext(grpc.status.UNAVAILABLE, { count: 3 });
    const failing = await readyz(app);
    expect(failing.status).toBe(503);
    expect(failing.body.failed).toEqual(['keyService']);
    const recovered = await readyz(app);
    expect(recovered.status).toBe(200);
  });

  test('answers 503 naming keyService while KMS denies permission, and 200 once it allows', async () => {
    app = await startTestApp({ databaseUrl: database.url, env: kmsEnv(kms) });
    kms.failNext(grpc.status.PERMISSION_DENIED);
    const failing = await readyz(app);
    expect(failing.status).toBe(503);
    expect(failing.body.failed).toEqual(['keyService']);
    expect((await readyz(app)).status).toBe(200);
  });

  test('answers 503 naming keyService while KMS answers with a corrupted checksum', async () => {
    app = await startTestApp({ databaseUrl: database.url, env: kmsEnv(kms) });
    kms.corruptNext('ciphertextCrc32c');
    const failing = await readyz(app);
    expect(failing.status).toBe(503);
    expect(failing.body.failed).toEqual(['keyService']);
  });
});

describe('no fallback to the local key ring', () => {
  let down: FakeKms;
  let app: TestApp;

  beforeAll(async () => {
    down = await startFakeKms();
    await down.close(); // nothing listens on its port any more
    app = await startTestApp({ databaseUrl: database.url, env: kmsEnv(down) });
  });

  afterAll(async () => {
    await app?.stop();
  });

  test('fails createCredential with KMS_UNAVAILABLE and writes no row when the KMS endpoint is down', async () => {
    const before = await dumpCredentials();
    const response = await anAdmin(app).create(aCredentialInput());
    expectError(response, { code: 'KMS_UNAVAILABLE' });
    expect(await dumpCredentials()).toBe(before);
  });

  test('creates no keyring.json in DATA_DIR when the KMS endpoint is down', async () => {
    await anAdmin(app).create(aCredentialInput());
    expect(existsSync(path.join(app.dataDir, LOCAL_KEYRING_FILE))).toBe(false);
  });

  test('answers /readyz 503 naming keyService when the KMS endpoint is down', async () => {
    const ready = await readyz(app);
    expect(ready.status).toBe(503);
    expect(ready.body.failed).toEqual(['keyService']);
  });
});

describe('KMS_API_ENDPOINT configuration', () => {
  const production = {
    NODE_ENV: 'production',
    JWT_SECRET: TEST_JWT_SECRET,
    KMS_KEY_NAME: 'projects/p/locations/global/keyRings/r/cryptoKeys/k',
    DATABASE_URL: 'postgresql://vault@db.internal:5432/vault',
  };

  test('refuses a plaintext http:// endpoint when NODE_ENV=production, naming KMS_API_ENDPOINT', () => {
    let thrown: unknown;
    try {
      loadConfig({ ...production, KMS_API_ENDPOINT: 'http://127.0.0.1:8085' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).problems).toEqual([expect.stringContaining('KMS_API_ENDPOINT')]);
  });

  test('accepts a host:port (TLS) endpoint when NODE_ENV=production', () => {
    expect(loadConfig({ ...production, KMS_API_ENDPOINT: 'kms.internal.example:443' }).kmsApiEndpoint).toBe('kms.internal.example:443');
  });

  test('accepts a plaintext http:// endpoint outside production', () => {
    expect(loadConfig({ KMS_KEY_NAME: production.KMS_KEY_NAME, KMS_API_ENDPOINT: 'http://127.0.0.1:8085' }).kmsApiEndpoint).toBe(
      'http://127.0.0.1:8085',
    );
  });
});

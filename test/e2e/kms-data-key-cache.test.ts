// The data key cache of the Cloud KMS key service, end to end: the real application over HTTP and
// PostgreSQL, its real @google-cloud/kms client talking to the fake KMS gRPC server, secrets opened
// through the application's own key service (openSecret). Opening the same secret again and again
// costs one Decrypt; a rotation of the credential or a re-wrap of its data key stores new bytes,
// and the next open decrypts those, never a stale cached key.
import { EnvelopeCipher } from '../../src/secrets/envelope';
import { SecretStore } from '../../src/secrets/secret-store';
import type { FakeKms } from '../fakes/fake-kms-server';
import { type KmsVault, startKmsVault } from '../support/cloud-fakes';
import { aCredentialInput, anApiKey, apiKeyAuth, expectedSecretPayload } from '../support/factories';
import { anAdmin } from '../support/organizations';
import type { TestApp } from '../support/test-app';
import type { TestDatabase } from '../support/test-database';
import { openSecret } from '../support/vault-client';

let database: TestDatabase;
let kms: FakeKms;
let vault: TestApp;
let started: KmsVault;

beforeAll(async () => {
  started = await startKmsVault('kms_cache_e2e');
  ({ database, kms, vault } = started);
});

afterAll(() => started?.stop());

afterEach(() => {
  kms.setLatency(0);
});

/** The stored wrapping key id and wrapped key of a credential, as hex. */
async function storedWrapping(id: string): Promise<{ keyId: string; wrappedKey: string }> {
  const [row] = await database.query<{ key_id: string; wrapped_key: string }>(
    "SELECT secret_key_id AS key_id, encode(secret_wrapped_key, 'hex') AS wrapped_key FROM credentials WHERE id = $1",
    [id],
  );
  return { keyId: row.key_id, wrappedKey: row.wrapped_key };
}

/** An admin of a new organization, its new API_KEY credential and the auth it was created with. */
async function aStoredApiKey() {
  const admin = anAdmin(vault);
  const auth = apiKeyAuth(anApiKey());
  const created = await admin.created(aCredentialInput({ auth }));
  return { admin, created, auth };
}

describe('opening secrets with the data key cache', () => {
  test('runs on the Cloud KMS key service', () => {
    expect(vault.app.keyService.name).toBe('gcp-kms');
  });

  test("opening the same credential's secret 25 times costs one Decrypt", async () => {
    const { created, auth } = await aStoredApiKey();
    kms.resetCalls();
    for (let i = 0; i < 25; i += 1) {
      expect(await openSecret(vault, created.organizationId, created.id)).toEqual({
        authType: 'API_KEY',
        secretVersion: 1,
        payload: expectedSecretPayload(auth),
      });
    }
    expect(kms.calls).toEqual({ encrypt: 0, decrypt: 1 });
  });

  test('30 concurrent opens of a secret not opened before cost one Decrypt', async () => {
    const { created, auth } = await aStoredApiKey();
    kms.resetCalls();
    kms.setLatency(50);
    const opened = await Promise.all(Array.from({ length: 30 }, () => openSecret(vault, created.organizationId, created.id)));
    kms.setLatency(0);
    for (const secret of opened) expect(secret?.payload).toEqual(expectedSecretPayload(auth));
    expect(kms.calls.decrypt).toBe(1);
  });

  test('two credentials cost one Decrypt each and open to their own secrets', async () => {
    const first = await aStoredApiKey();
    const second = await aStoredApiKey();
    kms.resetCalls();
    for (let i = 0; i < 5; i += 1) {
      expect((await openSecret(vault, first.created.organizationId, first.created.id))?.payload).toEqual(expectedSecretPayload(first.auth));
      expect((await openSecret(vault, second.created.organizationId, second.created.id))?.payload).toEqual(
        expectedSecretPayload(second.auth),
      );
    }
    expect(kms.calls.decrypt).toBe(2);
  });

  test('an update that leaves the secret alone (a rename) keeps it cached', async () => {
    const { admin, created } = await aStoredApiKey();
    await openSecret(vault, created.organizationId, created.id);
    kms.resetCalls();
    const response = await admin.update(created.id, { name: `${created.name}-renamed` });
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.updateCredential.secretVersion).toBe(1);
    await openSecret(vault, created.organizationId, created.id);
    expect(kms.calls).toEqual({ encrypt: 0, decrypt: 0 });
  });
});

describe('rotations and re-wraps are seen at once', () => {
  test('after updateCredential with a new auth, the next open returns the NEW secret, at the cost of one Decrypt', async () => {
    const { admin, created, auth: oldAuth } = await aStoredApiKey();
    for (let i = 0; i < 3; i += 1) await openSecret(vault, created.organizationId, created.id); // cached now
    const newAuth = apiKeyAuth(anApiKey());
    const update = await admin.update(created.id, { auth: newAuth });
    expect(update.body.errors).toBeUndefined();
    expect(update.body.data?.updateCredential.secretVersion).toBe(2);
    kms.resetCalls();
    for (let i = 0; i < 5; i += 1) {
      expect(await openSecret(vault, created.organizationId, created.id)).toEqual({
        authType: 'API_KEY',
        secretVersion: 2,
        payload: expectedSecretPayload(newAuth),
      });
    }
    expect(expectedSecretPayload(newAuth)).not.toEqual(expectedSecretPayload(oldAuth));
    expect(kms.calls).toEqual({ encrypt: 0, decrypt: 1 });
  });

  test('repeated rotations never serve the secret of another version', async () => {
    const { admin, created } = await aStoredApiKey();
    for (let version = 2; version <= 4; version += 1) {
      await openSecret(vault, created.organizationId, created.id);
      const auth = apiKeyAuth(anApiKey());
      const update = await admin.update(created.id, { auth });
      expect(update.body.errors).toBeUndefined();
      expect(await openSecret(vault, created.organizationId, created.id)).toEqual({
        authType: 'API_KEY',
        secretVersion: version,
        payload: expectedSecretPayload(auth),
      });
    }
  });

  test('after a re-wrap under a new KMS primary, the next open decrypts the new wrapped key', async () => {
    const { created, auth } = await aStoredApiKey();
    await openSecret(vault, created.organizationId, created.id); // cached under the version 1 wrapping
    const before = await storedWrapping(created.id);
    const newPrimary = kms.rotate();
    const store = new SecretStore(vault.app.database.prisma, new EnvelopeCipher(vault.app.keyService));
    expect(await store.rewrap({ credentialId: created.id, keyId: before.keyId })).toBe('rewrapped');
    const after = await storedWrapping(created.id);
    expect(after.keyId).toBe(newPrimary);
    expect(after.wrappedKey).not.toBe(before.wrappedKey);
    kms.resetCalls();
    for (let i = 0; i < 3; i += 1) {
      expect((await openSecret(vault, created.organizationId, created.id))?.payload).toEqual(expectedSecretPayload(auth));
    }
    expect(kms.calls.decrypt).toBe(1);
  });
});

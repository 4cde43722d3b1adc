// GcpKmsKeyService against the fake KMS gRPC server, through the real @google-cloud/kms client over
// loopback (plaintext channel, no credentials): wrap/unwrap, key version names, rotation, Google's
// CRC32C integrity fields, bounded retries of transient codes only, deadlines, readiness caching,
// and the refusal to send another key's data keys to KMS.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { KmsUnavailableError } from '../../../src/errors/app-error';
import { type GcpKmsOptions, GcpKmsKeyService, KmsIntegrityError } from '../../../src/secrets/gcp-kms';
import { type CorruptibleField, type FakeKms, startFakeKms } from '../../fakes/fake-kms-server';
import { sharedRsaPrivateKeyPem } from '../../support/factories';
import { TempDirs } from '../../support/temp-dirs';

const aad = Buffer.from('credential-vault/test/org-1/cred-1/1', 'utf8');
const dataKey = () => randomBytes(32);

let kms: FakeKms;
const services: GcpKmsKeyService[] = [];

/** A key service on the fake, with a tiny backoff; tracked so afterEach closes it. */
function serviceOn(fake: FakeKms, options: Partial<GcpKmsOptions> = {}): GcpKmsKeyService {
  const service = new GcpKmsKeyService({
    keyName: fake.keyName,
    apiEndpoint: fake.endpoint,
    callTimeoutMs: 2000,
    maxAttempts: 3,
    initialBackoffMs: 1,
    ...options,
  });
  services.push(service);
  return service;
}

/** A service whose channel is already connected, with the fake's counters reset. */
async function warmService(options: Partial<GcpKmsOptions> = {}): Promise<GcpKmsKeyService> {
  const service = serviceOn(kms, options);
  await service.wrap(dataKey(), aad);
  kms.resetCalls();
  return service;
}

/** The error a promise rejected with. */
async function rejection(promise: Promise<unknown>): Promise<Error & { code?: unknown }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: unknown };
  }
  throw new Error('expected the promise to reject');
}

beforeEach(async () => {
  kms = await startFakeKms();
});

afterEach(async () => {
  for (const service of services.splice(0)) await service.close();
  await kms.close();
});

describe('GcpKmsKeyService wrap and unwrap', () => {
  test('unwraps what it wrapped to the same data key', async () => {
    const service = serviceOn(kms);
    const key = dataKey();
    const wrapped = await service.wrap(key, aad);
    expect(wrapped.wrappedKey.equals(key)).toBe(false);
    expect(await service.unwrap(wrapped, aad)).toEqual(key);
  });

  test('reports the CryptoKeyVersion name KMS used as the keyId', async () => {
    const service = serviceOn(kms);
    const wrapped = await service.wrap(dataKey(), aad);
    expect(wrapped.keyId).toBe(`${kms.keyName}/cryptoKeyVersions/1`);
  });

  test('makes exactly one Encrypt call per wrap and one Decrypt call per unwrap', async () => {
    const service = await warmService();
    const wrapped = await service.wrap(dataKey(), aad);
    expect(kms.calls).toEqual({ encrypt: 1, decrypt: 0 });
    await service.unwrap(wrapped, aad);
    expect(kms.calls).toEqual({ encrypt: 1, decrypt: 1 });
  });

  test('fails to unwrap under a different AAD', async () => {
    const service = serviceOn(kms);
    const wrapped = await service.wrap(dataKey(), aad);
    await expect(service.unwrap(wrapped, Buffer.from('credential-vault/test/org-1/cred-1/2', 'utf8'))).rejects.toThrow();
  });

  test('fails to unwrap a wrapped key with a flipped byte', async () => {
    const service = serviceOn(kms);
    const wrapped = await service.wrap(dataKey(), aad);
    const damaged = Buffer.from(wrapped.wrappedKey);
    damaged[damaged.length - 1] ^= 0x01;
    await expect(service.unwrap({ keyId: wrapped.keyId, wrappedKey: damaged }, aad)).rejects.toThrow();
  });
});

describe('GcpKmsKeyService after a rotation in KMS', () => {
  test('wraps new data keys under the new primary version', async () => {
    const service = serviceOn(kms);
    await service.wrap(dataKey(), aad);
    const version2 = kms.rotate();
    expect((await service.wrap(dataKey(), aad)).keyId).toBe(version2);
    expect(version2).toBe(`${kms.keyName}/cryptoKeyVersions/2`);
  });

  test('still unwraps data keys wrapped under version 1', async () => {
    const service = serviceOn(kms);
    const key = dataKey();
    const underVersion1 = await service.wrap(key, aad);
    kms.rotate();
    expect(underVersion1.keyId).toBe(`${kms.keyName}/cryptoKeyVersions/1`);
    expect(await service.unwrap(underVersion1, aad)).toEqual(key);
  });

  test('reports the new primary from primaryKeyId()', async () => {
    const service = serviceOn(kms);
    expect(await service.primaryKeyId()).toBe(kms.primaryVersion());
    kms.rotate();
    expect(await service.primaryKeyId()).toBe(`${kms.keyName}/cryptoKeyVersions/2`);
    expect(await service.primaryKeyId()).toBe(kms.primaryVersion());
  });

  test('fails with KMS_UNAVAILABLE to unwrap a data key whose version was destroyed', async () => {
    const service = serviceOn(kms);
    const underVersion1 = await service.wrap(dataKey(), aad);
    kms.rotate();
    kms.destroyVersion(underVersion1.keyId);
    const error = await rejection(service.unwrap(underVersion1, aad));
    expect(error).toBeInstanceOf(KmsUnavailableError);
  });
});

describe('GcpKmsKeyService integrity fields', () => {
  test.each<CorruptibleField>(['ciphertextCrc32c', 'verifiedPlaintextCrc32c', 'verifiedAdditionalAuthenticatedDataCrc32c'])(
    'rejects an Encrypt answer with a corrupted %s as KmsIntegrityError (KMS_UNAVAILABLE)',
    async (field) => {
      const service = serviceOn(kms);
      kms.corruptNext(field);
      const error = await rejection(service.wrap(dataKey(), aad));
      expect(error).toBeInstanceOf(KmsIntegrityError);
      expect((error as KmsIntegrityError).code).toBe('KMS_UNAVAILABLE');
    },
  );

  test('rejects a Decrypt answer with a corrupted plaintextCrc32c as KmsIntegrityError (KMS_UNAVAILABLE)', async () => {
    const service = serviceOn(kms);
    const wrapped = await service.wrap(dataKey(), aad);
    kms.corruptNext('plaintextCrc32c');
    const error = await rejection(service.unwrap(wrapped, aad));
    expect(error).toBeInstanceOf(KmsIntegrityError);
    expect((error as KmsIntegrityError).code).toBe('KMS_UNAVAILABLE');
  });

  test('sends the plaintext and AAD checksums on Encrypt (KMS verifies both)', async () => {
    // The fake answers verified* = true only when the request carried the checksum; a client that
    // did not send them would fail its own check. Proven here from the other side: a wrap succeeds.
    const service = serviceOn(kms);
    const big = Buffer.alloc(64 * 1024, 7); // largest allowed AAD: the checksum must still match
    await expect(service.wrap(dataKey(), big)).resolves.toMatchObject({ keyId: `${kms.keyName}/cryptoKeyVersions/1` });
  });
});

describe('GcpKmsKeyService retries', () => {
  test('retries UNAVAILABLE and succeeds on the third attempt', async () => {
    const service = await warmService({ maxAttempts: 3 });
    kms.failNext(grpc.status.UNAVAILABLE, { count: 2 });
    await expect(service.wrap(dataKey(), aad)).resolves.toMatchObject({ keyId: `${kms.keyName}/cryptoKeyVersions/1` });
    expect(kms.calls.encrypt).toBe(3);
  });

  test('gives up with KmsUnavailableError after exactly maxAttempts UNAVAILABLE answers', async () => {
    const service = await warmService({ maxAttempts: 3 });
    kms.failNext(grpc.status.UNAVAILABLE, { count: 3 });
    const error = await rejection(service.wrap(dataKey(), aad));
    expect(error).toBeInstanceOf(KmsUnavailableError);
    expect(error.code).toBe('KMS_UNAVAILABLE');
    expect(kms.calls.encrypt).toBe(3);
  });

  test('retries UNAVAILABLE on Decrypt too', async () => {
    const service = await warmService({ maxAttempts: 3 });
    const key = dataKey();
    const wrapped = await service.wrap(key, aad);
    kms.failNext(grpc.status.UNAVAILABLE, { count: 2, method: 'decrypt' });
    expect(await service.unwrap(wrapped, aad)).toEqual(key);
    expect(kms.calls.decrypt).toBe(3);
  });

  test('puts a deadline on every call: latency beyond callTimeoutMs is retried, then KMS_UNAVAILABLE', async () => {
    const service = await warmService({ callTimeoutMs: 100, maxAttempts: 3 });
    kms.setLatency(600);
    const started = Date.now();
    const error = await rejection(service.wrap(dataKey(), aad));
    expect(error).toBeInstanceOf(KmsUnavailableError);
    expect(error.code).toBe('KMS_UNAVAILABLE');
    expect(kms.calls.encrypt).toBe(3);
    // Three deadlines of 100 ms, not three answers of 600 ms.
    expect(Date.now() - started).toBeLessThan(1500);
    kms.setLatency(0);
  });

  test('does not retry PERMISSION_DENIED, and names the role the service lacks', async () => {
    const service = await warmService({ maxAttempts: 3 });
    kms.failNext(grpc.status.PERMISSION_DENIED, { count: 3 });
    const error = await rejection(service.wrap(dataKey(), aad));
    expect(error).toBeInstanceOf(KmsUnavailableError);
    expect(error.code).toBe('KMS_UNAVAILABLE');
    expect(error.message).toContain('roles/cloudkms.cryptoKeyEncrypterDecrypter');
    expect(kms.calls.encrypt).toBe(1);
  });

  test('does not retry INVALID_ARGUMENT', async () => {
    const service = await warmService({ maxAttempts: 3 });
    kms.failNext(grpc.status.INVALID_ARGUMENT, { count: 3 });
    await expect(service.wrap(dataKey(), aad)).rejects.toThrow();
    expect(kms.calls.encrypt).toBe(1);
  });
});

describe('GcpKmsKeyService refuses key ids that are not its own, without calling KMS', () => {
  test.each([
    ['a local key ring id', 'local:1'],
    ['a version of another CryptoKey', 'projects/test/locations/global/keyRings/vault/cryptoKeys/other/cryptoKeyVersions/1'],
    [
      'a version of a CryptoKey whose name merely starts with ours',
      'projects/test/locations/global/keyRings/vault/cryptoKeys/secrets2/cryptoKeyVersions/1',
    ],
  ])('refuses %s', async (_label, keyId) => {
    const service = await warmService();
    const wrapped = await service.wrap(dataKey(), aad);
    kms.resetCalls();
    await expect(service.unwrap({ keyId, wrappedKey: wrapped.wrappedKey }, aad)).rejects.toThrow(keyId);
    expect(kms.calls).toEqual({ encrypt: 0, decrypt: 0 });
  });
});

describe('GcpKmsKeyService readiness', () => {
  test('resolves when KMS answers an Encrypt', async () => {
    const service = serviceOn(kms);
    await expect(service.checkReady()).resolves.toBeUndefined();
    expect(kms.calls.encrypt).toBe(1);
  });

  test('caches a success: a second check right after makes no KMS call', async () => {
    const service = serviceOn(kms);
    await service.checkReady();
    await service.checkReady();
    expect(kms.calls.encrypt).toBe(1);
  });

  test('rejects with KMS_UNAVAILABLE while KMS refuses', async () => {
    const service = serviceOn(kms);
    kms.failNext(grpc.status.PERMISSION_DENIED);
    const error = await rejection(service.checkReady());
    expect(error.code).toBe('KMS_UNAVAILABLE');
  });

  test('forgets a cached success once a call fails', async () => {
    const service = serviceOn(kms);
    await service.checkReady();
    kms.failNext(grpc.status.PERMISSION_DENIED, { count: 2 });
    await expect(service.wrap(dataKey(), aad)).rejects.toThrow();
    await expect(service.checkReady()).rejects.toThrow();
    expect(kms.calls.encrypt).toBe(3);
  });
});

describe('GcpKmsKeyService with the endpoint down', () => {
  test('fails with KMS_UNAVAILABLE when nothing listens on the endpoint', async () => {
    const down = await startFakeKms();
    await down.close();
    const service = serviceOn(down, { maxAttempts: 2 });
    const error = await rejection(service.wrap(dataKey(), aad));
    expect(error).toBeInstanceOf(KmsUnavailableError);
  });
});

describe('GcpKmsKeyService with a host:port endpoint (TLS and Google credentials)', () => {
  const savedCredentials = process.env.GOOGLE_APPLICATION_CREDENTIALS;
  let dir: string;
  const tempDirs = new TempDirs('gcp-kms-credentials-');

  beforeEach(() => {
    dir = tempDirs.make();
  });

  afterEach(() => {
    if (savedCredentials === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    else process.env.GOOGLE_APPLICATION_CREDENTIALS = savedCredentials;
    tempDirs.removeAll();
  });

  /** A service-account key file (never valid at Google), so the client finds credentials without a network lookup. */
  function useServiceAccountFile(): void {
    const file = path.join(dir, 'service-account.json');
    writeFileSync(
      file,
      JSON.stringify({
        type: 'service_account',
        project_id: 'vault-test',
        private_key_id: 'test-key',
        private_key: sharedRsaPrivateKeyPem(),
        client_email: 'vault@vault-test.iam.gserviceaccount.com',
        client_id: '1',
        token_uri: 'http://127.0.0.1:9/token',
      }),
    );
    process.env.GOOGLE_APPLICATION_CREDENTIALS = file;
  }

  test('speaks TLS, never plaintext: against the plaintext fake it fails with KMS_UNAVAILABLE and the fake receives no call', async () => {
    useServiceAccountFile();
    const service = serviceOn(kms, { apiEndpoint: `127.0.0.1:${kms.port}`, maxAttempts: 2 });
    const error = await rejection(service.wrap(dataKey(), aad));
    expect(error).toBeInstanceOf(KmsUnavailableError);
    expect(kms.calls).toEqual({ encrypt: 0, decrypt: 0 });
  });
});

describe('GcpKmsKeyService when the Google credentials cannot be loaded', () => {
  // Run in a child process: if the client lets a rejection go unhandled, Node ends the process, and
  // that must not take the test runner down with it. The child transpiles src/ with TypeScript.
  const CHILD = `
    const ts = require('typescript');
    const fs = require('fs');
    require.extensions['.ts'] = (module, file) => module._compile(ts.transpileModule(fs.readFileSync(file, 'utf8'), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, experimentalDecorators: true },
    }).outputText, file);
    const { GcpKmsKeyService } = require(process.env.GCP_KMS_MODULE);
    (async () => {
      const service = new GcpKmsKeyService({
        keyName: process.env.TEST_KEY_NAME, apiEndpoint: process.env.TEST_ENDPOINT, callTimeoutMs: 2000, maxAttempts: 2, initialBackoffMs: 1,
      });
      let result;
      try {
        await service.wrap(Buffer.alloc(32, 1), Buffer.from('aad'));
        result = { outcome: 'resolved' };
      } catch (error) {
        result = { outcome: 'rejected', code: error && error.code, message: String(error && error.message) };
      }
      fs.writeSync(1, JSON.stringify(result)); // at once: a crash right after must not hide it
      await new Promise((resolve) => setTimeout(resolve, 300)); // lets any unhandled rejection surface
      await service.close().catch(() => undefined);
    })();
  `;
  let child: { exitCode: number; stdout: string; stderr: string };
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gcp-kms-no-credentials-'));
    const fake = await startFakeKms();
    try {
      child = await new Promise((resolve) => {
        execFile(
          process.execPath,
          ['-e', CHILD],
          {
            cwd: path.resolve(__dirname, '../../..'),
            env: {
              PATH: process.env.PATH,
              HOME: dir,
              GOOGLE_APPLICATION_CREDENTIALS: path.join(dir, 'missing.json'),
              GCP_KMS_MODULE: path.resolve(__dirname, '../../../src/secrets/gcp-kms.ts'),
              TEST_KEY_NAME: fake.keyName,
              TEST_ENDPOINT: `127.0.0.1:${fake.port}`,
            },
            timeout: 20_000,
          },
          (error, stdout, stderr) => resolve({ exitCode: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
        );
      });
    } finally {
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  test('does not crash the process with an unhandled rejection', () => {
    const uncaught = child.stderr.split('\n').find((line) => /^\w*Error\b/.test(line));
    expect({ exitCode: child.exitCode, uncaught }).toEqual({ exitCode: 0, uncaught: undefined });
  });

  test('fails the wrap with KMS_UNAVAILABLE', () => {
    expect(child.stdout).not.toBe('');
    expect(JSON.parse(child.stdout)).toMatchObject({ outcome: 'rejected', code: 'KMS_UNAVAILABLE' });
  });
});

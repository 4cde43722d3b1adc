// The fake KMS server, driven by the real @google-cloud/kms client (never stubbed): encryption round
// trips, AAD binding, CRC32C checks, rotation and destruction, injected failures, latency against
// client deadlines, corrupted checksums, call counting — and the google-gax call options that give
// exactly one attempt.
import * as grpc from '@grpc/grpc-js';
import { KeyManagementServiceClient } from '@google-cloud/kms';
import { OAuth2Client } from 'google-auth-library';
import { crc32c, startFakeKms, type FakeKms } from '../../fakes/fake-kms-server';
import { rejectionOf } from '../../support/failures';
import { createLocalhostCertificate, type LocalhostCertificate } from '../../support/localhost-certificate';

/** One attempt, no retries, and the server's own status code in the error (see the "call options" tests). */
const ONCE = { retry: null };

function connect(kms: FakeKms): KeyManagementServiceClient {
  return new KeyManagementServiceClient({
    apiEndpoint: '127.0.0.1',
    port: kms.port,
    sslCreds: grpc.credentials.createInsecure(),
    authClient: new OAuth2Client(),
  });
}

/** The gRPC error a client call rejected with. */
const failure = async (promise: Promise<unknown>) => (await rejectionOf(promise)) as { code?: number; message: string };

const crcValue = (data: Uint8Array): string => String(crc32c(data));

describe('crc32c', () => {
  test('gives the standard check value', () => {
    expect(crc32c(Buffer.from('123456789', 'ascii'))).toBe(0xe3069283);
  });

  test('matches the RFC 3720 (iSCSI) test vectors', () => {
    expect(crc32c(Buffer.alloc(32, 0x00))).toBe(0x8a9136aa);
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
    expect(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i)))).toBe(0x46dd794e);
    expect(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)))).toBe(0x113fdb5c);
  });

  test('is 0 for no bytes', () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });
});

describe('fake KMS server with the real KeyManagementServiceClient', () => {
  let kms: FakeKms;
  let client: KeyManagementServiceClient;
  const plaintext = Buffer.from('a data key, 32 bytes long.......', 'utf8');
  const aad = Buffer.from('org-7f3a/cred-91c2/3', 'utf8');

  beforeAll(async () => {
    kms = await startFakeKms();
    client = connect(kms);
  });

  afterAll(async () => {
    await client.close();
    await kms.close();
  });

  beforeEach(() => {
    kms.setLatency(0);
    kms.resetCalls();
  });

  async function encrypt(name = kms.keyName, data = plaintext, boundTo = aad) {
    const [response] = await client.encrypt(
      {
        name,
        plaintext: data,
        additionalAuthenticatedData: boundTo,
        plaintextCrc32c: { value: crc32c(data) },
        additionalAuthenticatedDataCrc32c: { value: crc32c(boundTo) },
      },
      ONCE,
    );
    return response;
  }

  async function decrypt(ciphertext: Uint8Array, boundTo = aad) {
    const [response] = await client.decrypt(
      {
        name: kms.keyName,
        ciphertext,
        additionalAuthenticatedData: boundTo,
        ciphertextCrc32c: { value: crc32c(ciphertext) },
        additionalAuthenticatedDataCrc32c: { value: crc32c(boundTo) },
      },
      ONCE,
    );
    return response;
  }

  test('serves the default key name on a loopback endpoint', () => {
    expect(kms.keyName).toBe('projects/test/locations/global/keyRings/vault/cryptoKeys/secrets');
    expect(kms.endpoint).toBe(`http://127.0.0.1:${kms.port}`);
  });

  test('round-trips with AAD and reports CRC32C fields like KMS', async () => {
    const encrypted = await encrypt();
    expect(encrypted.name).toBe(`${kms.keyName}/cryptoKeyVersions/1`);
    expect(encrypted.protectionLevel).toBe('SOFTWARE');
    expect(encrypted.verifiedPlaintextCrc32c).toBe(true);
    expect(encrypted.verifiedAdditionalAuthenticatedDataCrc32c).toBe(true);
    const ciphertext = Buffer.from(encrypted.ciphertext as Uint8Array);
    expect(ciphertext.includes(plaintext)).toBe(false);
    expect(String(encrypted.ciphertextCrc32c?.value)).toBe(crcValue(ciphertext));

    const decrypted = await decrypt(ciphertext);
    expect(Buffer.from(decrypted.plaintext as Uint8Array).equals(plaintext)).toBe(true);
    expect(String(decrypted.plaintextCrc32c?.value)).toBe(crcValue(plaintext));
    expect(decrypted.usedPrimary).toBe(true);
    expect(decrypted.protectionLevel).toBe('SOFTWARE');
  });

  test('reports unverified checksums when the client sends none', async () => {
    const [response] = await client.encrypt({ name: kms.keyName, plaintext }, ONCE);
    expect(response.verifiedPlaintextCrc32c).toBe(false);
    expect(response.verifiedAdditionalAuthenticatedDataCrc32c).toBe(false);
    const [decrypted] = await client.decrypt({ name: kms.keyName, ciphertext: response.ciphertext }, ONCE);
    expect(Buffer.from(decrypted.plaintext as Uint8Array).equals(plaintext)).toBe(true);
  });

  test('encrypts twice to different ciphertexts', async () => {
    const first = await encrypt();
    const second = await encrypt();
    expect(Buffer.from(first.ciphertext as Uint8Array).equals(Buffer.from(second.ciphertext as Uint8Array))).toBe(false);
  });

  test('rejects wrong AAD and tampered ciphertext with INVALID_ARGUMENT', async () => {
    const ciphertext = Buffer.from((await encrypt()).ciphertext as Uint8Array);
    const wrongAad = await failure(decrypt(ciphertext, Buffer.from('org-7f3a/cred-91c2/4')));
    expect(wrongAad.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(wrongAad.message).toMatch(/Decryption failed/);
    const noAad = await failure(client.decrypt({ name: kms.keyName, ciphertext }, ONCE));
    expect(noAad.code).toBe(grpc.status.INVALID_ARGUMENT);

    // magic, format, key id, version number, nonce, GCM ciphertext, tag
    for (const index of [0, 4, 6, 16, 20, 40, ciphertext.length - 1]) {
      const tampered = Buffer.from(ciphertext);
      tampered[index] ^= 0x01;
      const error = await failure(decrypt(tampered));
      expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(error.message).toMatch(/Decryption failed/);
    }
  });

  test('rejects checksums that do not match the received bytes with INVALID_ARGUMENT', async () => {
    const badPlaintextCrc = await failure(
      client.encrypt({ name: kms.keyName, plaintext, plaintextCrc32c: { value: crc32c(plaintext) ^ 1 } }, ONCE),
    );
    expect(badPlaintextCrc.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(badPlaintextCrc.message).toMatch(/plaintext_crc32c/);
    const badAadCrc = await failure(
      client.encrypt(
        { name: kms.keyName, plaintext, additionalAuthenticatedData: aad, additionalAuthenticatedDataCrc32c: { value: 0 } },
        ONCE,
      ),
    );
    expect(badAadCrc.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(badAadCrc.message).toMatch(/additional_authenticated_data_crc32c/);

    const ciphertext = (await encrypt()).ciphertext as Uint8Array;
    const badCiphertextCrc = await failure(
      client.decrypt({ name: kms.keyName, ciphertext, additionalAuthenticatedData: aad, ciphertextCrc32c: { value: '12345' } }, ONCE),
    );
    expect(badCiphertextCrc.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(badCiphertextCrc.message).toMatch(/ciphertext_crc32c/);
    const badDecryptAadCrc = await failure(
      client.decrypt(
        { name: kms.keyName, ciphertext, additionalAuthenticatedData: aad, additionalAuthenticatedDataCrc32c: { value: 7 } },
        ONCE,
      ),
    );
    expect(badDecryptAadCrc.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  test('answers NOT_FOUND for an unknown key and INVALID_ARGUMENT for a too large plaintext', async () => {
    const unknown = await failure(
      client.encrypt({ name: 'projects/test/locations/global/keyRings/vault/cryptoKeys/other', plaintext }, ONCE),
    );
    expect(unknown.code).toBe(grpc.status.NOT_FOUND);
    const unknownVersion = await failure(client.encrypt({ name: `${kms.keyName}/cryptoKeyVersions/99`, plaintext }, ONCE));
    expect(unknownVersion.code).toBe(grpc.status.NOT_FOUND);
    const ciphertext = (await encrypt()).ciphertext as Uint8Array;
    const unknownDecrypt = await failure(
      client.decrypt({ name: 'projects/test/locations/global/keyRings/vault/cryptoKeys/other', ciphertext }, ONCE),
    );
    expect(unknownDecrypt.code).toBe(grpc.status.NOT_FOUND);

    await expect(encrypt(kms.keyName, Buffer.alloc(64 * 1024, 7))).resolves.toBeDefined();
    const tooLarge = await failure(encrypt(kms.keyName, Buffer.alloc(64 * 1024 + 1, 7)));
    expect(tooLarge.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  test('answers UNIMPLEMENTED for methods it does not serve', async () => {
    const error = await failure(client.getCryptoKey({ name: kms.keyName }, ONCE));
    expect(error.code).toBe(grpc.status.UNIMPLEMENTED);
  });

  test('counts calls by method, failed ones included, until reset', async () => {
    const ciphertext = (await encrypt()).ciphertext as Uint8Array;
    await decrypt(ciphertext);
    await failure(decrypt(ciphertext, Buffer.from('wrong')));
    expect(kms.calls).toEqual({ encrypt: 1, decrypt: 2 });
    kms.resetCalls();
    expect(kms.calls).toEqual({ encrypt: 0, decrypt: 0 });
  });

  test('injects failures by method and count, with the given message', async () => {
    kms.failNext(grpc.status.PERMISSION_DENIED, { method: 'decrypt', count: 2, message: 'no cloudkms.cryptoKeyVersions.useToDecrypt' });
    const ciphertext = (await encrypt()).ciphertext as Uint8Array; // encrypt is not affected
    for (let i = 0; i < 2; i += 1) {
      const error = await failure(decrypt(ciphertext));
      expect(error.code).toBe(grpc.status.PERMISSION_DENIED);
      expect(error.message).toMatch(/useToDecrypt/);
    }
    await expect(decrypt(ciphertext)).resolves.toBeDefined();
    expect(kms.calls).toEqual({ encrypt: 1, decrypt: 3 });
  });

  test('corrupts the next answer field by field', async () => {
    kms.corruptNext('ciphertextCrc32c');
    const corrupted = await encrypt();
    const ciphertext = Buffer.from(corrupted.ciphertext as Uint8Array);
    expect(String(corrupted.ciphertextCrc32c?.value)).not.toBe(crcValue(ciphertext));
    const next = await encrypt();
    expect(String(next.ciphertextCrc32c?.value)).toBe(crcValue(next.ciphertext as Uint8Array));

    kms.corruptNext('verifiedPlaintextCrc32c');
    const unverifiedPlaintext = await encrypt();
    expect(unverifiedPlaintext.verifiedPlaintextCrc32c).toBe(false);
    expect(unverifiedPlaintext.verifiedAdditionalAuthenticatedDataCrc32c).toBe(true);

    kms.corruptNext('verifiedAdditionalAuthenticatedDataCrc32c');
    const unverifiedAad = await encrypt();
    expect(unverifiedAad.verifiedPlaintextCrc32c).toBe(true);
    expect(unverifiedAad.verifiedAdditionalAuthenticatedDataCrc32c).toBe(false);

    kms.corruptNext('plaintextCrc32c');
    const decrypted = await decrypt(ciphertext); // the ciphertext itself was fine
    expect(Buffer.from(decrypted.plaintext as Uint8Array).equals(plaintext)).toBe(true);
    expect(String(decrypted.plaintextCrc32c?.value)).not.toBe(crcValue(plaintext));
    expect(String((await decrypt(ciphertext)).plaintextCrc32c?.value)).toBe(crcValue(plaintext));
  });

  describe('versions', () => {
    let rotatedKms: FakeKms;
    let rotatedClient: KeyManagementServiceClient;
    beforeAll(async () => {
      rotatedKms = await startFakeKms({ keyName: 'projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k' });
      rotatedClient = connect(rotatedKms);
    });
    afterAll(async () => {
      await rotatedClient.close();
      await rotatedKms.close();
    });

    const encryptWith = async (name: string) =>
      (await rotatedClient.encrypt({ name, plaintext, additionalAuthenticatedData: aad }, ONCE))[0];
    const decryptWith = async (ciphertext: Uint8Array) =>
      (await rotatedClient.decrypt({ name: rotatedKms.keyName, ciphertext, additionalAuthenticatedData: aad }, ONCE))[0];

    test('rotates: new encryptions use the new primary, old ciphertexts still decrypt, then destroy', async () => {
      const keyName = rotatedKms.keyName;
      expect(rotatedKms.primaryVersion()).toBe(`${keyName}/cryptoKeyVersions/1`);
      const underV1 = (await encryptWith(keyName)).ciphertext as Uint8Array;

      expect(rotatedKms.rotate()).toBe(`${keyName}/cryptoKeyVersions/2`);
      expect(rotatedKms.primaryVersion()).toBe(`${keyName}/cryptoKeyVersions/2`);
      const v2 = await encryptWith(keyName);
      expect(v2.name).toMatch(/\/cryptoKeyVersions\/2$/);
      const underV2 = v2.ciphertext as Uint8Array;

      const old = await decryptWith(underV1);
      expect(Buffer.from(old.plaintext as Uint8Array).equals(plaintext)).toBe(true);
      expect(old.usedPrimary).toBe(false);
      expect((await decryptWith(underV2)).usedPrimary).toBe(true);

      // Encrypt may name a specific (non-primary) version.
      const explicitV1 = await encryptWith(`${keyName}/cryptoKeyVersions/1`);
      expect(explicitV1.name).toBe(`${keyName}/cryptoKeyVersions/1`);
      expect((await decryptWith(explicitV1.ciphertext as Uint8Array)).usedPrimary).toBe(false);

      // Decrypt takes the CryptoKey name only.
      const byVersion = await failure(
        rotatedClient.decrypt({ name: `${keyName}/cryptoKeyVersions/1`, ciphertext: underV1, additionalAuthenticatedData: aad }, ONCE),
      );
      expect(byVersion.code).toBe(grpc.status.INVALID_ARGUMENT);

      rotatedKms.destroyVersion(`${keyName}/cryptoKeyVersions/1`);
      const destroyed = await failure(decryptWith(underV1));
      expect(destroyed.code).toBe(grpc.status.FAILED_PRECONDITION);
      expect(destroyed.message).toMatch(/cryptoKeyVersions\/1 is not enabled.*DESTROYED/);
      const encryptDestroyed = await failure(encryptWith(`${keyName}/cryptoKeyVersions/1`));
      expect(encryptDestroyed.code).toBe(grpc.status.FAILED_PRECONDITION);
      expect((await decryptWith(underV2)).usedPrimary).toBe(true);

      expect(() => rotatedKms.destroyVersion(`${keyName}/cryptoKeyVersions/9`)).toThrow(/no such CryptoKeyVersion/);
    });

    test('does not decrypt ciphertexts of another fake instance', async () => {
      const otherCiphertext = (await encrypt()).ciphertext as Uint8Array; // the outer fake, another key
      const error = await failure(decryptWith(otherCiphertext));
      expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    });
  });

  describe('google-gax call options (KMS config retries UNAVAILABLE and DEADLINE_EXCEEDED for Encrypt/Decrypt)', () => {
    // Each test gets its own client: some options below change the client's shared retry settings.
    let fresh: KeyManagementServiceClient;
    const request = () => ({ name: kms.keyName, plaintext });
    beforeEach(async () => {
      fresh = connect(kms);
      await fresh.encrypt(request(), ONCE); // connects the channel, so short deadlines below time the call only
      kms.resetCalls();
    });
    afterEach(async () => {
      await fresh.close();
    });

    test('retries UNAVAILABLE by default', async () => {
      kms.failNext(grpc.status.UNAVAILABLE, { count: 2 });
      const [response] = await fresh.encrypt(request());
      expect(response.name).toMatch(/cryptoKeyVersions\/1$/);
      expect(kms.calls.encrypt).toBe(3);
    });

    test('makes exactly one attempt with { retry: null } and surfaces code 14', async () => {
      // One injected failure: a retry would succeed, so the error itself proves there was none.
      kms.failNext(grpc.status.UNAVAILABLE);
      const error = await failure(fresh.encrypt(request(), { retry: null }));
      expect(error.code).toBe(grpc.status.UNAVAILABLE);
      expect(error.code).toBe(14);
      expect(kms.calls.encrypt).toBe(1);
      kms.failNext(grpc.status.UNAVAILABLE, { method: 'decrypt' });
      const decryptError = await failure(fresh.decrypt({ name: kms.keyName, ciphertext: Buffer.from('x') }, { retry: null }));
      expect(decryptError.code).toBe(14);
      expect(kms.calls.decrypt).toBe(1);
      // { retry: { retryCodes: [] } } works the same way.
      kms.failNext(grpc.status.UNAVAILABLE);
      expect((await failure(fresh.encrypt(request(), { retry: { retryCodes: [] } }))).code).toBe(14);
      expect(kms.calls.encrypt).toBe(2);
      // The client is not affected: later calls without options still retry.
      kms.failNext(grpc.status.UNAVAILABLE);
      await expect(fresh.encrypt(request())).resolves.toBeDefined();
      expect(kms.calls.encrypt).toBe(4);
    });

    test('{ maxRetries: 0 } also stops after one attempt but reports DEADLINE_EXCEEDED (4), and poisons the client', async () => {
      kms.failNext(grpc.status.UNAVAILABLE);
      const error = await failure(fresh.encrypt(request(), { maxRetries: 0 }));
      expect(error.code).toBe(grpc.status.DEADLINE_EXCEEDED);
      expect(error.message).toMatch(/Exceeded maximum number of retries retrying error Error: 14 UNAVAILABLE/);
      expect(kms.calls.encrypt).toBe(1);
      // gax wrote maxRetries into the method's shared backoff settings: later calls without options
      // no longer retry either.
      kms.failNext(grpc.status.UNAVAILABLE);
      expect((await failure(fresh.encrypt(request()))).code).toBe(grpc.status.DEADLINE_EXCEEDED);
      expect(kms.calls.encrypt).toBe(2);
    });

    test('{ maxRetries: 1 } breaks every later call on that client with INVALID_ARGUMENT before sending', async () => {
      await fresh.encrypt(request(), { maxRetries: 1 });
      const error = await failure(fresh.encrypt(request()));
      expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(error.message).toMatch(/Cannot set both totalTimeoutMillis and maxRetries/);
      expect(kms.calls.encrypt).toBe(1);
    });

    test('{ retry: null, maxRetries: 0 } throws a TypeError synchronously in gax, without sending', () => {
      expect(() => fresh.encrypt(request(), { retry: null, maxRetries: 0 })).toThrow(
        /Cannot read properties of null \(reading 'backoffSettings'\)/,
      );
      expect(kms.calls.encrypt).toBe(0);
    });

    test('{ timeout, retry: null } is the gRPC deadline of the single attempt', async () => {
      kms.setLatency(1000);
      const started = Date.now();
      const error = await failure(fresh.encrypt(request(), { timeout: 100, retry: null }));
      expect(error.code).toBe(grpc.status.DEADLINE_EXCEEDED);
      expect(error.message).toMatch(/^4 DEADLINE_EXCEEDED: Deadline exceeded after/);
      expect(Date.now() - started).toBeLessThan(700);
      expect(kms.calls.encrypt).toBe(1);
      kms.setLatency(50);
      await expect(fresh.encrypt(request(), { timeout: 2000, retry: null })).resolves.toBeDefined();
    });

    test('{ timeout } with default retries is the total budget: per attempt and overall', async () => {
      kms.setLatency(1000);
      const started = Date.now();
      const error = await failure(fresh.encrypt(request(), { timeout: 100 }));
      expect(error.code).toBe(grpc.status.DEADLINE_EXCEEDED);
      expect(error.message).toMatch(/Total timeout of API google.cloud.kms.v1.KeyManagementService exceeded 100 milliseconds/);
      expect(Date.now() - started).toBeLessThan(700);
      expect(kms.calls.encrypt).toBe(1);
    });
  });
});

describe('fake KMS server over TLS', () => {
  let certificate: LocalhostCertificate;
  let kms: FakeKms;

  beforeAll(async () => {
    certificate = await createLocalhostCertificate();
    kms = await startFakeKms({ tls: certificate });
  });

  afterAll(async () => {
    await kms?.close();
    certificate?.remove();
  });

  const tlsClient = (roots?: Buffer) =>
    new KeyManagementServiceClient({
      apiEndpoint: 'localhost',
      port: kms.port,
      sslCreds: grpc.credentials.createSsl(roots),
      authClient: new OAuth2Client(),
    });

  test('is reached at localhost:<port>, the KMS_API_ENDPOINT form for TLS', () => {
    expect(kms.endpoint).toBe(`localhost:${kms.port}`);
  });

  test('answers a client that trusts its certificate', async () => {
    const client = tlsClient(Buffer.from(certificate.certificate));
    try {
      const [response] = await client.encrypt({ name: kms.keyName, plaintext: Buffer.from('over TLS') }, ONCE);
      expect(response.name).toBe(kms.primaryVersion());
    } finally {
      await client.close();
    }
  });

  test('is refused by a client that trusts only the public roots', async () => {
    const client = tlsClient();
    kms.resetCalls();
    try {
      const error = await failure(client.encrypt({ name: kms.keyName, plaintext: Buffer.from('over TLS') }, ONCE));
      expect(error.code).toBe(grpc.status.UNAVAILABLE);
      expect(kms.calls.encrypt).toBe(0);
    } finally {
      await client.close();
    }
  });
});

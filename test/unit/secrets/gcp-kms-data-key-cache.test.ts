// GcpKmsKeyService's cache of unwrapped data keys, against the fake KMS gRPC server through the
// real @google-cloud/kms client, counting the Decrypt calls the fake receives: one per stored data
// key while it is fresh, one per cold key however many callers ask at once, a new one for a
// re-wrapped or rotated key, after the age or use limit, for every unwrap when the cache is off,
// and again after a failure (never cached).
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { KmsUnavailableError } from '../../../src/errors/app-error';
import { type GcpKmsOptions, GcpKmsKeyService, KmsIntegrityError } from '../../../src/secrets/gcp-kms';
import { type FakeKms, startFakeKms } from '../../fakes/fake-kms-server';

const aad = Buffer.from('credential-vault/test/org-1/cred-1/1', 'utf8');
const otherAad = Buffer.from('credential-vault/test/org-1/cred-1/2', 'utf8');
const dataKey = () => randomBytes(32);
const MAX_AGE_MS = 60_000;

let kms: FakeKms;
let time: number;
const services: GcpKmsKeyService[] = [];

/** A key service on the fake with a manual cache clock (`time`), tracked so afterEach closes it. */
function serviceOn(fake: FakeKms, options: Partial<GcpKmsOptions> = {}): GcpKmsKeyService {
  const service = new GcpKmsKeyService({
    keyName: fake.keyName,
    apiEndpoint: fake.endpoint,
    callTimeoutMs: 2000,
    maxAttempts: 3,
    initialBackoffMs: 1,
    dataKeyCache: { maxAgeMs: MAX_AGE_MS, now: () => time },
    ...options,
  });
  services.push(service);
  return service;
}

/** A service with `key` wrapped under `aad` by it, and the fake's counters reset. */
async function serviceWithWrappedKey(options: Partial<GcpKmsOptions> = {}) {
  const service = serviceOn(kms, options);
  const key = dataKey();
  const wrapped = await service.wrap(key, aad);
  kms.resetCalls();
  return { service, key, wrapped };
}

beforeEach(async () => {
  time = 1_000_000;
  kms = await startFakeKms();
});

afterEach(async () => {
  for (const service of services.splice(0)) await service.close();
  await kms.close();
});

describe('GcpKmsKeyService data key cache: hits', () => {
  test('20 unwraps of the same wrapped key make one Decrypt', async () => {
    const { service, key, wrapped } = await serviceWithWrappedKey();
    for (let i = 0; i < 20; i += 1) expect(await service.unwrap(wrapped, aad)).toEqual(key);
    expect(kms.calls).toEqual({ encrypt: 0, decrypt: 1 });
  });

  test('is on by default, with the default limits', async () => {
    const service = new GcpKmsKeyService({ keyName: kms.keyName, apiEndpoint: kms.endpoint, initialBackoffMs: 1 });
    services.push(service);
    const key = dataKey();
    const wrapped = await service.wrap(key, aad);
    kms.resetCalls();
    for (let i = 0; i < 5; i += 1) expect(await service.unwrap(wrapped, aad)).toEqual(key);
    expect(kms.calls.decrypt).toBe(1);
  });

  test('hits on equal stored bytes, whatever Buffer holds them', async () => {
    const { service, key, wrapped } = await serviceWithWrappedKey();
    await service.unwrap(wrapped, aad);
    expect(await service.unwrap({ keyId: `${wrapped.keyId}`, wrappedKey: Buffer.from(wrapped.wrappedKey) }, Buffer.from(aad))).toEqual(key);
    expect(kms.calls.decrypt).toBe(1);
  });

  test('returns a copy of its own to every caller: zeroing one (as EnvelopeCipher does) leaves the next intact', async () => {
    const { service, key, wrapped } = await serviceWithWrappedKey();
    const first = await service.unwrap(wrapped, aad);
    first.fill(0);
    const second = await service.unwrap(wrapped, aad);
    expect(second).toEqual(key);
    expect(second).not.toBe(first);
    second[0] ^= 0xff;
    expect(await service.unwrap(wrapped, aad)).toEqual(key);
    expect(kms.calls.decrypt).toBe(1);
  });

  test('a caller changing its wrapped key or AAD buffers after the call does not change what was decrypted or cached', async () => {
    const { service, key, wrapped } = await serviceWithWrappedKey();
    const callersWrapped = Buffer.from(wrapped.wrappedKey);
    const callersAad = Buffer.from(aad);
    const pending = service.unwrap({ keyId: wrapped.keyId, wrappedKey: callersWrapped }, callersAad);
    callersWrapped.fill(0);
    callersAad.fill(0);
    expect(await pending).toEqual(key);
    expect(await service.unwrap(wrapped, aad)).toEqual(key);
    expect(kms.calls.decrypt).toBe(1);
  });
});

describe('GcpKmsKeyService data key cache: single flight', () => {
  test('50 concurrent unwraps of a cold key make one Decrypt, and each gets a copy of its own', async () => {
    const { service, key, wrapped } = await serviceWithWrappedKey();
    kms.setLatency(50); // the Decrypt is still in flight when the last caller asks
    const keys = await Promise.all(Array.from({ length: 50 }, () => service.unwrap(wrapped, aad)));
    kms.setLatency(0);
    expect(kms.calls.decrypt).toBe(1);
    for (const got of keys) expect(got).toEqual(key);
    expect(new Set(keys).size).toBe(50);
  });

  test('concurrent unwraps of two different keys make one Decrypt each', async () => {
    const service = serviceOn(kms);
    const [a, b] = [dataKey(), dataKey()];
    const [wrappedA, wrappedB] = [await service.wrap(a, aad), await service.wrap(b, aad)];
    kms.resetCalls();
    const unwrapped = await Promise.all([
      ...Array.from({ length: 10 }, () => service.unwrap(wrappedA, aad)),
      ...Array.from({ length: 10 }, () => service.unwrap(wrappedB, aad)),
    ]);
    expect(kms.calls.decrypt).toBe(2);
    expect(unwrapped.slice(0, 10).every((got) => got.equals(a))).toBe(true);
    expect(unwrapped.slice(10).every((got) => got.equals(b))).toBe(true);
  });
});

describe('GcpKmsKeyService data key cache: keyed by what is stored', () => {
  test('a re-wrap of the same data key (new wrapped bytes) makes a Decrypt of its own', async () => {
    const { service, key, wrapped } = await serviceWithWrappedKey();
    await service.unwrap(wrapped, aad);
    const rewrapped = await service.wrap(key, aad);
    expect(rewrapped.wrappedKey.equals(wrapped.wrappedKey)).toBe(false);
    expect(await service.unwrap(rewrapped, aad)).toEqual(key);
    expect(kms.calls.decrypt).toBe(2);
  });

  test('a key wrapped after a rotation in KMS makes a Decrypt of its own and opens to the new data key', async () => {
    const { service, wrapped } = await serviceWithWrappedKey();
    await service.unwrap(wrapped, aad);
    kms.rotate();
    const rotatedKey = dataKey();
    const rotated = await service.wrap(rotatedKey, aad);
    expect(rotated.keyId).toBe(`${kms.keyName}/cryptoKeyVersions/2`);
    expect(await service.unwrap(rotated, aad)).toEqual(rotatedKey);
    expect(kms.calls.decrypt).toBe(2);
  });

  test('the same wrapped bytes under another key id are a miss', async () => {
    const { service, wrapped } = await serviceWithWrappedKey();
    await service.unwrap(wrapped, aad);
    kms.rotate();
    // The fake decrypts by the ciphertext's own header, so the Decrypt succeeds: what matters is that it happens.
    await service.unwrap({ keyId: `${kms.keyName}/cryptoKeyVersions/2`, wrappedKey: wrapped.wrappedKey }, aad);
    expect(kms.calls.decrypt).toBe(2);
  });

  test('the same wrapped bytes under another AAD are a miss, and KMS refuses them', async () => {
    const { service, wrapped } = await serviceWithWrappedKey();
    await service.unwrap(wrapped, aad);
    await expect(service.unwrap(wrapped, otherAad)).rejects.toThrow();
    expect(kms.calls.decrypt).toBe(2);
  });

  test('still refuses a key id that is not its own, without calling KMS, when the bytes are cached', async () => {
    const { service, wrapped } = await serviceWithWrappedKey();
    await service.unwrap(wrapped, aad);
    const foreign = 'projects/test/locations/global/keyRings/vault/cryptoKeys/other/cryptoKeyVersions/1';
    await expect(service.unwrap({ keyId: foreign, wrappedKey: wrapped.wrappedKey }, aad)).rejects.toThrow(foreign);
    expect(kms.calls.decrypt).toBe(1);
  });
});

describe('GcpKmsKeyService data key cache: limits', () => {
  test('decrypts again once maxAgeMs has passed since the Decrypt', async () => {
    const { service, key, wrapped } = await serviceWithWrappedKey();
    await service.unwrap(wrapped, aad);
    time += MAX_AGE_MS - 1;
    await service.unwrap(wrapped, aad);
    expect(kms.calls.decrypt).toBe(1);
    time += 1;
    expect(await service.unwrap(wrapped, aad)).toEqual(key);
    expect(kms.calls.decrypt).toBe(2);
  });

  test('decrypts again after maxUses unwraps', async () => {
    const { service, key, wrapped } = await serviceWithWrappedKey({ dataKeyCache: { maxUses: 4, now: () => time } });
    for (let i = 0; i < 4; i += 1) await service.unwrap(wrapped, aad);
    expect(kms.calls.decrypt).toBe(1);
    expect(await service.unwrap(wrapped, aad)).toEqual(key);
    expect(kms.calls.decrypt).toBe(2);
    for (let i = 0; i < 3; i += 1) await service.unwrap(wrapped, aad);
    expect(kms.calls.decrypt).toBe(2);
  });

  test('keeps at most maxEntries keys: a third key evicts the first', async () => {
    const service = serviceOn(kms, { dataKeyCache: { maxEntries: 2, now: () => time } });
    const keys = [dataKey(), dataKey(), dataKey()];
    const wrapped = await Promise.all(keys.map((key) => service.wrap(key, aad)));
    kms.resetCalls();
    for (const one of wrapped) await service.unwrap(one, aad);
    expect(kms.calls.decrypt).toBe(3);
    await service.unwrap(wrapped[1], aad);
    await service.unwrap(wrapped[2], aad);
    expect(kms.calls.decrypt).toBe(3);
    expect(await service.unwrap(wrapped[0], aad)).toEqual(keys[0]);
    expect(kms.calls.decrypt).toBe(4);
  });

  test('with dataKeyCache: false every unwrap makes a Decrypt', async () => {
    const { service, key, wrapped } = await serviceWithWrappedKey({ dataKeyCache: false });
    for (let i = 0; i < 5; i += 1) expect(await service.unwrap(wrapped, aad)).toEqual(key);
    expect(kms.calls.decrypt).toBe(5);
  });

  test('refuses a limit that is not positive when the service is built', () => {
    expect(() => serviceOn(kms, { dataKeyCache: { maxUses: 0 } })).toThrow(RangeError);
  });
});

describe('GcpKmsKeyService data key cache: failures are not cached', () => {
  test('a refused Decrypt is KMS_UNAVAILABLE, and the next unwrap decrypts again and succeeds', async () => {
    const { service, key, wrapped } = await serviceWithWrappedKey();
    kms.failNext(grpc.status.PERMISSION_DENIED, { method: 'decrypt' });
    await expect(service.unwrap(wrapped, aad)).rejects.toBeInstanceOf(KmsUnavailableError);
    expect(await service.unwrap(wrapped, aad)).toEqual(key);
    expect(kms.calls.decrypt).toBe(2);
    await service.unwrap(wrapped, aad);
    expect(kms.calls.decrypt).toBe(2);
  });

  test('an answer failing its CRC32C check is KmsIntegrityError, and the next unwrap decrypts again', async () => {
    const { service, key, wrapped } = await serviceWithWrappedKey();
    kms.corruptNext('plaintextCrc32c');
    await expect(service.unwrap(wrapped, aad)).rejects.toBeInstanceOf(KmsIntegrityError);
    expect(await service.unwrap(wrapped, aad)).toEqual(key);
    expect(kms.calls.decrypt).toBe(2);
  });

  test('retries still happen inside the one Decrypt flight: UNAVAILABLE twice, then one answer for every caller', async () => {
    const { service, key, wrapped } = await serviceWithWrappedKey();
    kms.failNext(grpc.status.UNAVAILABLE, { count: 2, method: 'decrypt' });
    const keys = await Promise.all(Array.from({ length: 10 }, () => service.unwrap(wrapped, aad)));
    expect(keys.every((got) => got.equals(key))).toBe(true);
    expect(kms.calls.decrypt).toBe(3);
  });

  test('concurrent callers of a failing Decrypt all get the error from one call, and the next unwrap decrypts again', async () => {
    const { service, key, wrapped } = await serviceWithWrappedKey();
    kms.failNext(grpc.status.PERMISSION_DENIED, { method: 'decrypt' });
    kms.setLatency(50);
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => service.unwrap(wrapped, aad)));
    kms.setLatency(0);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(Array(10).fill('rejected'));
    expect(kms.calls.decrypt).toBe(1);
    expect(await service.unwrap(wrapped, aad)).toEqual(key);
    expect(kms.calls.decrypt).toBe(2);
  });

  test('a destroyed version no longer decrypts once the cached key has aged out', async () => {
    const { service, wrapped } = await serviceWithWrappedKey();
    await service.unwrap(wrapped, aad);
    kms.rotate();
    kms.destroyVersion(wrapped.keyId);
    time += MAX_AGE_MS;
    await expect(service.unwrap(wrapped, aad)).rejects.toBeInstanceOf(KmsUnavailableError);
    expect(kms.calls.decrypt).toBe(2);
  });
});

describe('GcpKmsKeyService data key cache: close()', () => {
  test('forgets the cached keys: an unwrap after close() is not answered from memory', async () => {
    const { service, wrapped } = await serviceWithWrappedKey();
    await service.unwrap(wrapped, aad);
    await service.close();
    await expect(service.unwrap(wrapped, aad)).rejects.toThrow();
  });
});
